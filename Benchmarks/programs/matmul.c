// Dense double-precision matrix multiply: float arithmetic and address computation.
#define N 200
static double a[N][N], b[N][N], c[N][N];
int run(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) { a[i][j] = i + j * 0.5; b[i][j] = i - j * 0.25; c[i][j] = 0; }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            double aik = a[i][k];
            for (int j = 0; j < N; j++) c[i][j] += aik * b[k][j];
        }
    double sum = 0;
    for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) sum += c[i][j];
    return (int)(sum / 1000.0);
}
