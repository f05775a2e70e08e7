// Threads that start at once on another core (`strata_thread_start`).
#define _GNU_SOURCE
#include "CStrataJIT.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

typedef struct ThreadStart {
    void *(*run)(void *);
    void *argument;
    cpu_set_t allowed;  // the creator's cores, given back once the thread runs
    int narrowed;
} ThreadStart;

static void *threadMain(void *p) {
    ThreadStart start = *(ThreadStart *)p;
    free(p);
    if (start.narrowed) pthread_setaffinity_np(pthread_self(), sizeof start.allowed, &start.allowed);
    return start.run(start.argument);
}

int strata_thread_start(void *(*run)(void *), void *argument) {
    ThreadStart *start = malloc(sizeof *start);
    if (!start) return -1;
    start->run = run;
    start->argument = argument;
    start->narrowed = 0;
    pthread_attr_t attributes;
    int error = pthread_attr_init(&attributes);
    if (error) {
        free(start);
        return error;
    }
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (sched_getaffinity(0, sizeof start->allowed, &start->allowed) == 0) {
        cpu_set_t others = start->allowed;
        int here = sched_getcpu();
        if (here >= 0 && here < CPU_SETSIZE) CPU_CLR(here, &others);
        if (CPU_COUNT(&others) > 0 && pthread_attr_setaffinity_np(&attributes, sizeof others, &others) == 0) start->narrowed = 1;
    }
    pthread_t thread;
    error = pthread_create(&thread, &attributes, threadMain, start);
    pthread_attr_destroy(&attributes);
    if (error) free(start);
    return error;
}
