// N-body simulation: floating point with square roots. clang's -O2 wasm32 build of this code
// rounds differently from the native build in the last bits (the -O0 wasm32 build matches
// native exactly; Strata, WasmKit and Wasmtime agree bit for bit on each binary), and the
// system is chaotic. So it runs 40 short simulations and the checksum keeps 3 decimals.
#define BODIES 5
static double x[BODIES], y[BODIES], z[BODIES], vx[BODIES], vy[BODIES], vz[BODIES], m[BODIES];
double sqrt(double);
static double simulate(int seed) {
    for (int i = 0; i < BODIES; i++) {
        x[i] = i * 1.1 + seed * 0.01; y[i] = i * 0.7 - 1; z[i] = i * 0.3; vx[i] = 0.01 * i; vy[i] = -0.02 * i; vz[i] = 0.005; m[i] = 1.0 + i * 0.1;
    }
    for (int step = 0; step < 10000; step++) {
        for (int i = 0; i < BODIES; i++)
            for (int j = i + 1; j < BODIES; j++) {
                double dx = x[i] - x[j], dy = y[i] - y[j], dz = z[i] - z[j];
                double d2 = dx * dx + dy * dy + dz * dz + 0.01;
                double mag = 0.001 / (d2 * __builtin_sqrt(d2));
                vx[i] -= dx * m[j] * mag; vy[i] -= dy * m[j] * mag; vz[i] -= dz * m[j] * mag;
                vx[j] += dx * m[i] * mag; vy[j] += dy * m[i] * mag; vz[j] += dz * m[i] * mag;
            }
        for (int i = 0; i < BODIES; i++) { x[i] += 0.001 * vx[i]; y[i] += 0.001 * vy[i]; z[i] += 0.001 * vz[i]; }
    }
    double e = 0;
    for (int i = 0; i < BODIES; i++) e += m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    return e;
}
int run(void) {
    double total = 0;
    for (int k = 0; k < 40; k++) total += simulate(k);
    return (int)(total * 1e3);
}
