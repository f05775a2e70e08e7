// Native driver for a benchmark program: runs run() REPS times (argv[1], default 1) and
// prints the harness protocol: "result R", one "iteration SECONDS" per run, "cpu SECONDS",
// "rss KIB".
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
int run(void);
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 1;
    int result = 0;
    for (int i = 0; i < reps; i++) {
        double a = now();
        result = run();
        double b = now();
        if (i == 0) printf("result %d\n", result);
        printf("iteration %.9f\n", b - a);
    }
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    printf("cpu %.6f\n", u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6);
    printf("rss %ld\n", u.ru_maxrss);
    return 0;
}
