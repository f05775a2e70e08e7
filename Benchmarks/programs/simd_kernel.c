// A data-parallel kernel for the SIMD-versus-scalar comparison: built twice, with clang's
// auto-vectorizer targeting wasm SIMD (-msimd128) and without. Same source, same result.
#define N 4096
static float a[N], b[N], c[N];
static unsigned char img[N], out[N];
int run(void) {
    for (int i = 0; i < N; i++) { a[i] = (float)(i % 97) * 0.5f; b[i] = (float)(i % 13) - 6.0f; img[i] = (unsigned char)(i * 7); }
    float acc = 0;
    unsigned total = 0;
    for (int rep = 0; rep < 400; rep++) {
        for (int i = 0; i < N; i++) c[i] = a[i] * b[i] + c[i] * 0.25f;          // saxpy-like
        for (int i = 0; i < N; i++) acc += c[i];                                   // reduction
        for (int i = 0; i < N; i++) {                                              // saturating brighten
            unsigned v = img[i] + (unsigned)rep;
            out[i] = v > 255 ? 255 : (unsigned char)v;
        }
        for (int i = 0; i < N; i++) total += out[i];
    }
    return (int)acc + (int)total;
}
