// Bulk memory: large memcpy/memset (memory.copy / memory.fill with -mbulk-memory).
#define N (4 << 20)
static unsigned char a[N], b[N];
int run(void) {
    unsigned check = 0;
    for (int rep = 0; rep < 40; rep++) {
        __builtin_memset(a, rep, N);
        a[rep * 1000] = (unsigned char)(rep * 3);
        __builtin_memcpy(b, a, N);
        __builtin_memmove(b + 1, b, N - 1);
        check = check * 33 + b[rep * 1000 + 1] + b[N - 1];
    }
    return (int)check;
}
