// Dot products and a matrix kernel as ML inference and signal processing run them,
// vectorized by clang (-msimd128): a float matrix-vector product (column order, so the inner
// loop has no reduction), 16-bit fixed-point dot products accumulated in 32 bits, and a
// small float matrix multiply. Returns a checksum.
#define N 192
#define K 1024
static float a[N][N], x[N], y[N], b[N][N], c[N][N];
static short p[K], q[K];
int run(void) {
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 17) * 0.25f - 2.0f;
        for (int j = 0; j < N; j++) { a[i][j] = (float)((i * 3 + j * 5) % 23) * 0.125f - 1.0f; b[i][j] = (float)((i + 2 * j) % 11) - 5.0f; }
    }
    for (int k = 0; k < K; k++) { p[k] = (short)((k * 37) % 2001 - 1000); q[k] = (short)((k * 91) % 1501 - 750); }
    int acc = 0;
    float facc = 0;
    for (int rep = 0; rep < 30; rep++) {
        for (int j = 0; j < N; j++) y[j] = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) y[j] += a[i][j] * x[i];
        for (int j = 0; j < N; j += 8) facc += y[j];
        for (int r = 0; r < 16; r++) {
            int s = 0;
            for (int k = 0; k < K; k++) s += p[k] * q[(k + r) & (K - 1)];
            acc += s >> 4;
        }
        for (int i = 0; i < N; i += 4)
            for (int j = 0; j < N; j++) c[i][j] = 0;
        for (int i = 0; i < N; i += 4)
            for (int k = 0; k < N; k++) {
                float aik = a[i][k];
                for (int j = 0; j < N; j++) c[i][j] += aik * b[k][j];
            }
        facc += c[rep % N][rep % N];
        x[rep % N] += 0.5f;
    }
    return acc + (int)facc;
}
