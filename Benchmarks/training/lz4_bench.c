// Training workload: LZ4 (fast and HC) compressing and decompressing a text in memory.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lz4.h"
#include "lz4hc.h"
int main(int argc, char **argv) {
    FILE *f = fopen(argc > 1 ? argv[1] : "input.txt", "rb");
    if (!f) { printf("no input\n"); return 1; }
    static char in[4 << 20];
    int n = (int)fread(in, 1, sizeof in, f);
    fclose(f);
    int cap = LZ4_compressBound(n);
    char *out = malloc(cap), *back = malloc(n);
    unsigned sum = 0;
    for (int round = 0; round < 3; round++) {
        int c = LZ4_compress_default(in, out, n, cap);
        int d = LZ4_decompress_safe(out, back, c, n);
        sum += (unsigned)c + (unsigned)d + (memcmp(in, back, n) == 0);
    }
    int c = LZ4_compress_HC(in, out, n, cap, 9);
    int d = LZ4_decompress_safe(out, back, c, n);
    printf("%u %d %d\n", sum, c, d);
    return 0;
}
