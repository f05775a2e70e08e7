// Branchy code: quicksort of pseudo-random integers, repeated.
#define N 200000
static int data[N];
static unsigned seed = 12345;
static unsigned next(void) { seed = seed * 1103515245u + 12345u; return seed >> 8; }
static void sort(int *a, int lo, int hi) {
    while (lo < hi) {
        int p = a[(lo + hi) >> 1], i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) { int t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { sort(a, lo, j); lo = i; } else { sort(a, i, hi); hi = j; }
    }
}
int run(void) {
    unsigned check = 0;
    for (int rep = 0; rep < 5; rep++) {
        for (int i = 0; i < N; i++) data[i] = (int)(next() % 1000000);
        sort(data, 0, N - 1);
        for (int i = 0; i < N; i += 997) check = check * 31 + (unsigned)data[i];
    }
    return (int)check;
}
