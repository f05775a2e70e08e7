// Memory-bound: pointer chasing through a 16 MiB permutation (cache and TLB misses).
#define N (4 << 20)
static unsigned next[N];
int run(void) {
    unsigned s = 7;
    for (unsigned i = 0; i < N; i++) next[i] = i;
    for (unsigned i = N - 1; i > 0; i--) {   // Sattolo's algorithm: one big cycle
        s = s * 1664525u + 1013904223u;
        unsigned j = s % i, t = next[i]; next[i] = next[j]; next[j] = t;
    }
    unsigned p = 0, sum = 0;
    for (int k = 0; k < 8000000; k++) { p = next[p]; sum += p; }
    return (int)sum;
}
