#include <stdio.h>
#include <stdlib.h>
// A program whose time is almost all in one function (checksum), a little in another (fill),
// and which prints its result through WASI's fd_write.
__attribute__((noinline)) void fill(unsigned *a, int n, unsigned seed) {
    for (int i = 0; i < n; i++) { seed = seed * 1103515245u + 12345u; a[i] = seed >> 8; }
}
__attribute__((noinline)) unsigned checksum(const unsigned *a, int n, int rounds) {
    unsigned h = 2166136261u;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) h = (h ^ a[i]) * 16777619u + (unsigned)r;
    return h;
}
__attribute__((noinline)) void report(unsigned h) { printf("checksum %08x\n", h); fflush(stdout); }
int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    enum { N = 1 << 16 };
    static unsigned a[N];
    unsigned h = 0;
    for (int k = 0; k < 10; k++) {
        fill(a, N, (unsigned)k);
        h ^= checksum(a, N, rounds / 10);
    }
    report(h);
    return 0;
}
