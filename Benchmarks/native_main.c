// Times one call of a benchmark program's run() compiled natively (the baseline for ratios).
#include <stdio.h>
#include <time.h>
int run(void);
int main(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = run();
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%d\n%.6f\n", r, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
