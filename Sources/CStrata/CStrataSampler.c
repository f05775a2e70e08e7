// The guest profiler's sampler (see CStrataSampler.h). The signal handler only reads memory
// it has checked (native stack words between the interrupted stack pointer and the thread's
// stack top; the interpreter's frame array within its limit) and writes the sample buffer,
// which only this thread writes while sampling runs.
#define _GNU_SOURCE
#include "CStrataSampler.h"
#include "CStrataJIT.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sched.h>
#include <ucontext.h>
#include <unistd.h>

static StrataSamplerLayout layout;
static atomic_int running = 0;
static timer_t timer;
static struct sigaction previousAction;
static atomic_int inHandler = 0;
static int installed = 0;
static uint64_t *buffer = NULL;
static size_t bufferWords = 0, usedWords = 0;
static uint64_t sampleCount = 0, droppedCount = 0;
static uintptr_t stackLow = 0, stackHigh = 0;
static pid_t sampledThread = 0;

static inline uintptr_t readWord(const void *base, size_t offset) {
    return *(const uintptr_t *)((const char *)base + offset);
}

/// One compiled-code item found on the native stack: the frame's position and its code range.
typedef struct NativeItem {
    uintptr_t position;
    const StrataCodeRange *range;
} NativeItem;

/// Whether return address `ret` in `range` is a wrapper's call (call-site Wasm offset all ones).
static int isWrapperCall(const StrataCodeRange *range, uintptr_t ret) {
    uint32_t offset = (uint32_t)(ret - range->start);
    uint32_t lo = 0, hi = range->callSiteCount;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t at = range->callSites[2 * mid];
        if (at == offset) return range->callSites[2 * mid + 1] == 0xFFFFFFFFu;
        if (at < offset) lo = mid + 1; else hi = mid;
    }
    return 0;
}

/// Walks the rbp chain from the interrupted frame, keeping the frames whose pc or return
/// address is compiled code, innermost first. Other frames (the interpreter, the runtime,
/// host functions in Swift, which keep frame pointers) are passed through; the walk ends at a
/// frame pointer outside [rsp, stack top) or not above the previous one.
static size_t walkNative(const ucontext_t *uc, NativeItem *items, size_t capacity) {
    const greg_t *regs = uc->uc_mcontext.gregs;
    uintptr_t sp = (uintptr_t)regs[REG_RSP], fp = (uintptr_t)regs[REG_RBP], pc = (uintptr_t)regs[REG_RIP];
    size_t n = 0;
    // Interrupted off the thread's stack (on a signal stack, in a handler): no native walk.
    if (sp < stackLow || sp >= stackHigh) return 0;
    const StrataCodeRange *range = strata_registry_lookup(pc);
    if (range != NULL && n < capacity) {
        items[n++] = (NativeItem){ fp, range };
        // At the first instruction of a prologue (push rbp), right after it (mov rbp, rsp)
        // or at the epilogue's ret, rbp is still (or again) the caller's: the caller's return
        // address is on top of the stack, or under the pushed rbp. (pc is an instruction's
        // first byte; compiled code is readable.)
        const uint8_t *code = (const uint8_t *)pc;
        uintptr_t ret = 0;
        if (code[0] == 0x55 || code[0] == 0xC3) ret = ((const uintptr_t *)sp)[0];
        else if (pc > range->start && code[-1] == 0x55 && code[0] == 0x48 && code[1] == 0x89 && code[2] == 0xE5) ret = ((const uintptr_t *)sp)[1];
        const StrataCodeRange *caller = ret ? strata_registry_lookup(ret) : NULL;
        if (caller != NULL && !isWrapperCall(caller, ret) && n < capacity) items[n++] = (NativeItem){ fp, caller };
    }
    for (int steps = 0; steps < 4096 && n < capacity; steps++) {
        if (fp < sp || fp + 16 > stackHigh || (fp & 7) != 0) break;
        uintptr_t savedFP = ((const uintptr_t *)fp)[0];
        uintptr_t ret = ((const uintptr_t *)fp)[1];
        const StrataCodeRange *caller = strata_registry_lookup(ret);
        // The caller's frame is the one savedFP points at. A wrapper's call (a slot-buffer
        // entry calling its direct entry, baseline code calling its optimized OSR entry) is the
        // same activation: backtraces show it once, and so do samples.
        if (caller != NULL && !isWrapperCall(caller, ret)) items[n++] = (NativeItem){ savedFP, caller };
        if (savedFP <= fp) break;
        sp = fp;
        fp = savedFP;
    }
    return n;
}

static inline void put(uint64_t **out, uint64_t a, uint64_t b, uint64_t c) {
    (*out)[0] = a;
    (*out)[1] = b;
    (*out)[2] = c;
    *out += 3;
}

static void sampleHandler(int sig, siginfo_t *info, void *context) {
    int savedErrno = errno;
    atomic_fetch_add(&inHandler, 1);
    if (!atomic_load(&running) || gettid() != sampledThread || buffer == NULL) {
        atomic_fetch_sub(&inHandler, 1);
        // Not a sample of ours: the handler installed before Strata's gets it.
        if (previousAction.sa_flags & SA_SIGINFO) previousAction.sa_sigaction(sig, info, context);
        else if (previousAction.sa_handler != SIG_DFL && previousAction.sa_handler != SIG_IGN) previousAction.sa_handler(sig);
        errno = savedErrno;
        return;
    }
    size_t needed = 1 + STRATA_SAMPLE_MAX_ITEMS * STRATA_SAMPLE_ITEM_WORDS;
    if (usedWords + needed > bufferWords) {
        droppedCount++;
        atomic_fetch_sub(&inHandler, 1);
        errno = savedErrno;
        return;
    }
    NativeItem native[STRATA_SAMPLE_MAX_ITEMS];
    size_t nativeCount = walkNative((const ucontext_t *)context, native, STRATA_SAMPLE_MAX_ITEMS);

    // The interpreter's frames, by activation: the frame array holds every activation's
    // frames, each activation starting at an entry frame (return pc NULL); marker k is the
    // native stack position of activation k.
    const void *st = layout.execState;
    const char *frames = (const char *)readWord(st, layout.framesOffset);
    const char *frameTop = (const char *)readWord(st, layout.frameTopOffset);
    const char *frameEnd = (const char *)readWord(st, layout.frameEndOffset);
    intptr_t frameCount = frameTop >= frames ? (intptr_t)((uintptr_t)(frameTop - frames) / layout.frameStride) : -1;
    intptr_t frameLimit = frameEnd >= frames ? (intptr_t)((uintptr_t)(frameEnd - frames) / layout.frameStride) : 0;
    const uintptr_t *markers = (const uintptr_t *)readWord(st, layout.markersOffset);
    intptr_t markerCount = (intptr_t)readWord(st, layout.markerCountOffset);
    if (frameCount < 0 || frameCount > frameLimit + 1) frameCount = 0;
    if (markerCount < 0) markerCount = 0;

    uint64_t *record = buffer + usedWords;
    uint64_t *out = record + 1;
    size_t items = 0, next = 0;
    // Activations from the innermost: find entry frames from the top down.
    intptr_t top = frameCount;                        // one past the activation's last frame
    uintptr_t innerFunction = readWord(st, layout.currentOffset);
    uintptr_t innerVM = readWord(st, layout.vmctxOffset);
    intptr_t activation = 0;
    for (intptr_t k = frameCount - 1; k >= 0; k--) {
        if (readWord(frames + k * layout.frameStride, layout.frameReturnPCOffset) == 0) activation++;
    }
    while (top > 0 && items < STRATA_SAMPLE_MAX_ITEMS) {
        intptr_t entry = top - 1;
        while (entry > 0 && readWord(frames + entry * layout.frameStride, layout.frameReturnPCOffset) != 0) entry--;
        activation--;
        uintptr_t position = activation >= 0 && activation < markerCount ? markers[activation] : UINTPTR_MAX;
        // Compiled frames deeper than this activation come first.
        while (next < nativeCount && native[next].position < position && items < STRATA_SAMPLE_MAX_ITEMS) {
            const StrataCodeRange *r = native[next++].range;
            put(&out, STRATA_SAMPLE_COMPILED | (uint64_t)(r->tier & 0xFF) << 8 | (uint64_t)r->functionIndex << 32, (uintptr_t)r->owner, 0);
            items++;
        }
        // Then the activation's functions, innermost first: the one running, then the callers
        // its frames recorded (the entry frame's function belongs to the activation below).
        if (innerFunction != 0 && items < STRATA_SAMPLE_MAX_ITEMS) {
            put(&out, STRATA_SAMPLE_INTERPRETED, innerFunction, innerVM);
            items++;
        }
        for (intptr_t k = top - 1; k > entry && items < STRATA_SAMPLE_MAX_ITEMS; k--) {
            const char *f = frames + k * layout.frameStride;
            uintptr_t function = readWord(f, layout.frameFunctionOffset);
            if (function != 0) {
                put(&out, STRATA_SAMPLE_INTERPRETED, function, readWord(f, layout.frameVMContextOffset));
                items++;
            }
        }
        const char *e = frames + entry * layout.frameStride;
        innerFunction = readWord(e, layout.frameFunctionOffset);
        innerVM = readWord(e, layout.frameVMContextOffset);
        top = entry;
    }
    while (next < nativeCount && items < STRATA_SAMPLE_MAX_ITEMS) {
        const StrataCodeRange *r = native[next++].range;
        put(&out, STRATA_SAMPLE_COMPILED | (uint64_t)(r->tier & 0xFF) << 8 | (uint64_t)r->functionIndex << 32, (uintptr_t)r->owner, 0);
        items++;
    }
    record[0] = items;
    usedWords += 1 + items * STRATA_SAMPLE_ITEM_WORDS;
    sampleCount++;
    atomic_fetch_sub(&inHandler, 1);
    errno = savedErrno;
}

int strata_sampler_start(const StrataSamplerLayout *l, uint64_t intervalNanoseconds, size_t bufferBytes) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&running, &expected, 1)) return EBUSY;
    if (buffer != NULL) strata_sampler_release();
    layout = *l;
    void *low;
    size_t size;
    strata_thread_stack_bounds(&low, &size);
    if (low == NULL) {  // the walk needs the stack's bounds
        atomic_store(&running, 0);
        return ENOTSUP;
    }
    stackLow = (uintptr_t)low;
    stackHigh = (uintptr_t)low + size;
    sampledThread = gettid();
    void *p = mmap(NULL, bufferBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        atomic_store(&running, 0);
        return e;
    }
    buffer = p;
    bufferWords = bufferBytes / sizeof(uint64_t);
    usedWords = 0;
    sampleCount = 0;
    droppedCount = 0;
    // Installed once and kept: a signal still queued when sampling stops must not meet the
    // default action (which ends the process).
    if (!installed) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = sampleHandler;
        action.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(SIGPROF, &action, &previousAction) != 0) {
            int e = errno;
            strata_sampler_release();
            atomic_store(&running, 0);
            return e;
        }
        installed = 1;
    }
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGPROF;
    event._sigev_un._tid = sampledThread;
    if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) {
        int e = errno;
        strata_sampler_release();
        atomic_store(&running, 0);
        return e;
    }
    struct itimerspec spec;
    spec.it_interval.tv_sec = (time_t)(intervalNanoseconds / 1000000000u);
    spec.it_interval.tv_nsec = (long)(intervalNanoseconds % 1000000000u);
    spec.it_value = spec.it_interval;
    timer_settime(timer, 0, &spec, NULL);
    return 0;
}

void strata_sampler_stop(void) {
    if (!atomic_load(&running)) return;
    timer_delete(timer);
    atomic_store(&running, 0);
    // A handler that began before the store above finishes before the buffer is read.
    while (atomic_load(&inHandler) != 0) sched_yield();
}

const uint64_t *strata_sampler_buffer(size_t *words, uint64_t *samples, uint64_t *dropped) {
    *words = usedWords;
    *samples = sampleCount;
    *dropped = droppedCount;
    return buffer;
}

void strata_sampler_release(void) {
    if (buffer != NULL) munmap(buffer, bufferWords * sizeof(uint64_t));
    buffer = NULL;
    bufferWords = 0;
    usedWords = 0;
}
