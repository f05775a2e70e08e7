// Training workload: Zstandard compressing at levels 3 and 9 and decompressing a text in memory.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zstd.h"
int main(int argc, char **argv) {
    FILE *f = fopen(argc > 1 ? argv[1] : "input.txt", "rb");
    if (!f) { printf("no input\n"); return 1; }
    static char in[4 << 20];
    size_t n = fread(in, 1, sizeof in, f);
    fclose(f);
    size_t cap = ZSTD_compressBound(n);
    char *out = malloc(cap), *back = malloc(n);
    size_t total = 0;
    int levels[] = {3, 9};
    for (int k = 0; k < 2; k++) {
        size_t c = ZSTD_compress(out, cap, in, n, levels[k]);
        size_t d = ZSTD_decompress(back, n, out, c);
        total += c + d + (memcmp(in, back, n) == 0);
    }
    printf("%zu\n", total);
    return 0;
}
