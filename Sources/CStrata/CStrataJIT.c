// Strata's JIT runtime in C: what Swift cannot express safely inside a signal handler.
// The code registry (lock-free lookups), the trap signal handler that redirects a faulting
// thread to the nearest host entry's landing, and per-thread stack facts.
#define _GNU_SOURCE
#include "CStrataJIT.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <cpuid.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

// ---------------------------------------------------------------------------------------
// Code registry: an immutable sorted snapshot, replaced by writers under a mutex. Readers
// (the signal handler too) announce themselves in a counter, so a writer frees an old
// snapshot only when no reader can still hold it.

typedef struct Snapshot {
    size_t count;
    const StrataCodeRange *ranges[];
} Snapshot;

static _Atomic(Snapshot *) registry = NULL;
static atomic_long registryReaders = 0;
static pthread_mutex_t registryLock = PTHREAD_MUTEX_INITIALIZER;

static int compareRanges(const void *a, const void *b) {
    uintptr_t x = (*(const StrataCodeRange *const *)a)->start;
    uintptr_t y = (*(const StrataCodeRange *const *)b)->start;
    return x < y ? -1 : x > y;
}

static void publish(Snapshot *next) {
    Snapshot *old = atomic_exchange_explicit(&registry, next, memory_order_acq_rel);
    while (atomic_load_explicit(&registryReaders, memory_order_acquire) != 0) { /* spin: lookups are short */ }
    free(old);
}

void strata_registry_add(const StrataCodeRange *const *ranges, size_t count) {
    // Sort the new ranges, then merge them with the (sorted) current snapshot.
    const StrataCodeRange **added = malloc((count ? count : 1) * sizeof(void *));
    if (added == NULL) abort();
    memcpy(added, ranges, count * sizeof(void *));
    int sorted = 1;
    for (size_t i = 1; i < count && sorted; i++) sorted = added[i - 1]->start < added[i]->start;
    if (!sorted) qsort(added, count, sizeof(void *), compareRanges);
    pthread_mutex_lock(&registryLock);
    Snapshot *cur = atomic_load_explicit(&registry, memory_order_acquire);
    size_t n = cur ? cur->count : 0;
    Snapshot *next = malloc(sizeof(Snapshot) + (n + count) * sizeof(void *));
    if (next == NULL) abort();
    size_t i = 0, j = 0, k = 0;
    while (i < n || j < count) {
        if (j == count || (i < n && cur->ranges[i]->start < added[j]->start)) next->ranges[k++] = cur->ranges[i++];
        else next->ranges[k++] = added[j++];
    }
    next->count = k;
    publish(next);
    pthread_mutex_unlock(&registryLock);
    free(added);
}

void strata_registry_remove(const StrataCodeRange *first, size_t count) {
    pthread_mutex_lock(&registryLock);
    Snapshot *cur = atomic_load_explicit(&registry, memory_order_acquire);
    size_t n = cur ? cur->count : 0;
    Snapshot *next = malloc(sizeof(Snapshot) + n * sizeof(void *));
    if (next == NULL) abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const StrataCodeRange *r = cur->ranges[i];
        if (!(r >= first && r < first + count)) next->ranges[k++] = r;
    }
    next->count = k;
    publish(next);
    pthread_mutex_unlock(&registryLock);
}

const StrataCodeRange *strata_registry_lookup(uintptr_t pc) {
    atomic_fetch_add_explicit(&registryReaders, 1, memory_order_acq_rel);
    const Snapshot *s = atomic_load_explicit(&registry, memory_order_acquire);
    const StrataCodeRange *found = NULL;
    if (s) {
        size_t lo = 0, hi = s->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const StrataCodeRange *r = s->ranges[mid];
            if (pc < r->start) hi = mid;
            else if (pc >= r->end) lo = mid + 1;
            else { found = r; break; }
        }
    }
    atomic_fetch_sub_explicit(&registryReaders, 1, memory_order_acq_rel);
    return found;
}

const StrataTrapSite *strata_trap_site(const StrataCodeRange *range, uint32_t codeOffset) {
    size_t lo = 0, hi = range->trapCount;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t o = range->traps[mid].codeOffset;
        if (codeOffset < o) hi = mid;
        else if (codeOffset > o) lo = mid + 1;
        else return &range->traps[mid];
    }
    return NULL;
}

// ---------------------------------------------------------------------------------------
// Traps: the handler finds the trap site of the faulting pc, walks the frame-pointer chain of
// compiled frames up to the nearest entry trampoline frame (recording return addresses for
// the backtrace), and rewrites the signal context so the thread resumes at the trampoline's
// landing with the trap kind in eax. Only compiled frames are skipped; no host frame is.

static _Thread_local StrataTrapRecord trapRecord;
StrataTrapRecord *strata_trap_record(void) { return &trapRecord; }

static uintptr_t entryReturnAddress, entryLanding, entryFrameBytes;
void strata_set_entry_trampoline(uintptr_t returnAddress, uintptr_t landing, uintptr_t entryFrameSize) {
    entryReturnAddress = returnAddress;
    entryLanding = landing;
    entryFrameBytes = entryFrameSize;
}

static struct sigaction previousActions[NSIG];
static const int trapSignals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };

static void chain(int sig, siginfo_t *info, void *context) {
    struct sigaction *p = &previousActions[sig];
    if (p->sa_flags & SA_SIGINFO) {
        if (p->sa_sigaction) { p->sa_sigaction(sig, info, context); return; }
    } else if (p->sa_handler == SIG_IGN) {
        return;
    } else if (p->sa_handler != SIG_DFL && p->sa_handler != NULL) {
        p->sa_handler(sig);
        return;
    }
    // Default action: restore it and return; the faulting instruction runs again and the
    // process gets the signal's default behaviour (a core dump for a crash).
    signal(sig, SIG_DFL);
}

static atomic_int trapUnwinder = STRATA_UNWIND_LIBUNWIND;
void strata_set_trap_unwinder(int unwinder) { atomic_store(&trapUnwinder, unwinder); }
int strata_trap_unwinder(void) { return atomic_load(&trapUnwinder); }

static void recordFrame(StrataTrapRecord *rec, uintptr_t ret) {
    if (rec->frameCount < STRATA_TRAP_MAX_FRAMES) rec->pcs[rec->frameCount++] = ret;
    else rec->truncated = 1;
}

/// Where an exception resumes: the landing pad of the innermost `try_table` around the Wasm
/// instruction a compiled frame is at (a trap site for the faulting frame, a call site for a
/// return address), or 0. Entries are innermost first; an entry covers [first, end).
static uintptr_t landingPad(const StrataCodeRange *range, uintptr_t pc, int isReturnAddress, uint32_t faultWasmOffset) {
    if (range == NULL || range->handlerCount == 0) return 0;
    uint32_t offset = (uint32_t)(pc - range->start), wasm = faultWasmOffset;
    if (isReturnAddress) {
        wasm = 0xFFFFFFFFu;
        for (uint32_t k = 0; k < range->callSiteCount; k++) {
            if (range->callSites[2 * k] == offset) { wasm = range->callSites[2 * k + 1]; break; }
        }
        if (wasm == 0xFFFFFFFFu) return 0;  // a wrapper's call: no try_table around it
    }
    for (uint32_t k = 0; k < range->handlerCount; k++) {
        const uint32_t *h = range->handlers + 3 * k;
        if (h[0] <= wasm && wasm < h[1]) return range->start + h[2];
    }
    return 0;
}

/// The outcome of a walk: the entry frame's rbp (0: the frames are not ours all the way), or,
/// for an exception a compiled frame catches, that frame's rbp and landing pad.
typedef struct WalkResult {
    uintptr_t fp;
    uintptr_t pad;
} WalkResult;

/// Walks the rbp chain from the faulting frame to the entry frame (for an exception, stopping
/// at the first frame with a landing pad for it).
static WalkResult walkFramePointersFrom(uintptr_t fp, uintptr_t pc, StrataTrapRecord *rec, int exception, const StrataCodeRange *range, uint32_t wasm) {
    if (exception) {
        uintptr_t pad = landingPad(range, pc, 0, wasm);
        if (pad) return (WalkResult){ fp, pad };
    }
    for (;;) {
        uintptr_t savedFP = ((const uintptr_t *)fp)[0];
        uintptr_t ret = ((const uintptr_t *)fp)[1];
        if (ret == entryReturnAddress) return (WalkResult){ savedFP, 0 };
        const StrataCodeRange *caller = strata_registry_lookup(ret);
        if (caller == NULL) return (WalkResult){ 0, 0 };
        if (exception) {
            uintptr_t pad = landingPad(caller, ret, 1, 0);
            if (pad) return (WalkResult){ savedFP, pad };
        }
        recordFrame(rec, ret);
        fp = savedFP;
    }
}

static WalkResult walkFramePointers(ucontext_t *uc, StrataTrapRecord *rec, int exception, const StrataCodeRange *range, uint32_t wasm) {
    return walkFramePointersFrom((uintptr_t)uc->uc_mcontext.gregs[REG_RBP], (uintptr_t)uc->uc_mcontext.gregs[REG_RIP],
                                 rec, exception, range, wasm);
}

/// The same walk with libunwind, stepping with the unwind information registered for
/// compiled code (a frame's rbp is what libunwind restores for it).
static WalkResult walkLibunwind(ucontext_t *uc, StrataTrapRecord *rec, int exception, const StrataCodeRange *range, uint32_t wasm) {
    if (exception) {
        uintptr_t pad = landingPad(range, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP], 0, wasm);
        if (pad) return (WalkResult){ (uintptr_t)uc->uc_mcontext.gregs[REG_RBP], pad };
    }
    unw_cursor_t cursor;
    if (unw_init_local2(&cursor, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) != 0) return (WalkResult){ 0, 0 };
    for (;;) {
        if (unw_step(&cursor) <= 0) return (WalkResult){ 0, 0 };
        unw_word_t ip = 0, fp = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0) return (WalkResult){ 0, 0 };
        if (ip == entryReturnAddress) {
            if (unw_get_reg(&cursor, UNW_X86_64_RBP, &fp) != 0) return (WalkResult){ 0, 0 };
            return (WalkResult){ (uintptr_t)fp, 0 };
        }
        const StrataCodeRange *caller = strata_registry_lookup((uintptr_t)ip);
        if (caller == NULL) return (WalkResult){ 0, 0 };
        if (exception) {
            uintptr_t pad = landingPad(caller, (uintptr_t)ip, 1, 0);
            if (pad) {
                if (unw_get_reg(&cursor, UNW_X86_64_RBP, &fp) != 0) return (WalkResult){ 0, 0 };
                return (WalkResult){ (uintptr_t)fp, pad };
            }
        }
        recordFrame(rec, (uintptr_t)ip);
    }
}

static void trapHandler(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = (ucontext_t *)context;
    greg_t *regs = uc->uc_mcontext.gregs;
    uintptr_t pc = (uintptr_t)regs[REG_RIP];
    const StrataCodeRange *range = strata_registry_lookup(pc);
    const StrataTrapSite *site = range ? strata_trap_site(range, (uint32_t)(pc - range->start)) : NULL;
    if (site == NULL || entryReturnAddress == 0) {
        chain(sig, info, context);
        return;
    }
    uint32_t kind = site->kind == STRATA_TRAP_KIND_DYNAMIC ? (uint32_t)regs[REG_RAX] : site->kind;
    StrataTrapRecord *rec = &trapRecord;
    rec->kind = kind;
    rec->frameCount = 1;
    rec->truncated = 0;
    rec->pcs[0] = pc;
    int exception = kind == STRATA_TRAP_KIND_EXCEPTION;
    WalkResult walk = atomic_load(&trapUnwinder) == STRATA_UNWIND_LIBUNWIND
        ? walkLibunwind(uc, rec, exception, range, site->wasmOffset)
        : walkFramePointers(uc, rec, exception, range, site->wasmOffset);
    uintptr_t fp = walk.fp;
    if (fp == 0) {
        // The frames are not ours all the way to an entry: crash as the host would.
        rec->kind = 0;
        chain(sig, info, context);
        return;
    }
    if (walk.pad) {
        // A compiled frame catches it: its landing pad restores its stack pointer and VM
        // context from its frame (the exception stays pending in the store).
        rec->kind = 0;
        regs[REG_RBP] = (greg_t)fp;
        regs[REG_RIP] = (greg_t)walk.pad;
        return;
    }
    regs[REG_RBP] = (greg_t)fp;
    regs[REG_RSP] = (greg_t)(fp - entryFrameBytes);
    regs[REG_RIP] = (greg_t)entryLanding;
    regs[REG_RAX] = (greg_t)kind;
}

StrataResume strata_raise(uintptr_t fp, uintptr_t pc, uint32_t kind) {
    const StrataCodeRange *range = strata_registry_lookup(pc);
    const StrataTrapSite *site = range ? strata_trap_site(range, (uint32_t)(pc - range->start)) : NULL;
    if (site == NULL || entryReturnAddress == 0) return (StrataResume){ 0, 0 };
    StrataTrapRecord *rec = &trapRecord;
    rec->kind = kind;
    rec->frameCount = 1;
    rec->truncated = 0;
    rec->pcs[0] = pc;
    WalkResult walk = walkFramePointersFrom(fp, pc, rec, kind == STRATA_TRAP_KIND_EXCEPTION, range, site->wasmOffset);
    if (walk.fp == 0 || walk.pad) {
        rec->kind = 0;
        return (StrataResume){ walk.pad, walk.fp };
    }
    return (StrataResume){ entryLanding, walk.fp };
}

static pthread_once_t installOnce = PTHREAD_ONCE_INIT;
static int installResult = -1;

static void install(void) {
    for (size_t i = 0; i < sizeof(trapSignals) / sizeof(trapSignals[0]); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = trapHandler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        if (sigaction(trapSignals[i], &sa, &previousActions[trapSignals[i]]) != 0) return;
    }
    installResult = 0;
}

int strata_install_signal_handlers(void) {
    pthread_once(&installOnce, install);
    return installResult;
}

static _Thread_local int threadPrepared;
static _Thread_local uintptr_t threadStackLimit;

void strata_thread_prepare(void) {
    if (threadPrepared) return;
    threadPrepared = 1;
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE) && current.ss_size >= 65536) return;
    size_t size = 65536;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return;
    stack_t ss = { .ss_sp = mem, .ss_size = size, .ss_flags = 0 };
    sigaltstack(&ss, NULL);  // kept for the thread's lifetime
}

void strata_thread_stack_bounds(void **low, size_t *size) {
    *low = NULL;
    *size = 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, low, size);
        pthread_attr_destroy(&attr);
    }
}

uintptr_t strata_thread_stack_limit(void) {
    if (threadStackLimit) return threadStackLimit;
    void *low;
    size_t size;
    strata_thread_stack_bounds(&low, &size);
    // Leave room below compiled code for host functions and the runtime: a quarter of the
    // stack, at most 256 KiB (signals are delivered on the alternate stack).
    uintptr_t limit;
    if (low != NULL && size > 0) {
        size_t margin = size / 4 < 256 * 1024 ? size / 4 : 256 * 1024;
        limit = (uintptr_t)low + margin;
    } else {
        // Unknown bounds: allow 256 KiB below the current frame.
        limit = (uintptr_t)__builtin_frame_address(0) - 256 * 1024;
    }
    threadStackLimit = limit;
    return limit;
}

uint32_t strata_thread_id(void) { return (uint32_t)gettid(); }

void strata_publish_fence(void) { atomic_thread_fence(memory_order_seq_cst); }

uint32_t strata_cpu_features(void) {
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        if (c & (1u << 19)) f |= STRATA_CPU_SSE41;
        if (c & (1u << 20)) f |= STRATA_CPU_SSE42;
        if (c & (1u << 23)) f |= STRATA_CPU_POPCNT;
        // AVX: the CPU has it (bit 28) and the OS saves the YMM state (OSXSAVE, then XCR0's
        // SSE and AVX bits).
        if ((c & (1u << 28)) && (c & (1u << 27))) {
            uint32_t lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            if ((lo & 6u) == 6u) f |= STRATA_CPU_AVX;
        }
    }
    if (__get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 5))) f |= STRATA_CPU_LZCNT;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if (b & (1u << 3)) f |= STRATA_CPU_BMI1;
        if (b & (1u << 8)) f |= STRATA_CPU_BMI2;
    }
    return f;
}

void *strata_unwind_register(uintptr_t start, uintptr_t end, uintptr_t segbase, const int32_t *table, size_t entries) {
    unw_dyn_info_t *di = calloc(1, sizeof(unw_dyn_info_t));
    if (di == NULL) return NULL;
    di->start_ip = start;
    di->end_ip = end;
    di->format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di->u.rti.name_ptr = 0;
    di->u.rti.segbase = segbase;
    di->u.rti.table_len = entries * 2 * sizeof(int32_t) / sizeof(unw_word_t);
    di->u.rti.table_data = (unw_word_t)(uintptr_t)table;
    _U_dyn_register(di);
    return di;
}

void strata_unwind_unregister(void *handle) {
    if (handle == NULL) return;
    _U_dyn_cancel((unw_dyn_info_t *)handle);
    free(handle);
}

int strata_unwind_lookup(uintptr_t pc, uintptr_t *start, uintptr_t *end) {
    unw_proc_info_t pi;
    memset(&pi, 0, sizeof(pi));
    if (unw_get_proc_info_by_ip(unw_local_addr_space, (unw_word_t)pc, &pi, NULL) != 0) return 0;
    *start = (uintptr_t)pi.start_ip;
    *end = (uintptr_t)pi.end_ip;
    return 1;
}

const void *strata_libc_function(int which) { return which == 0 ? (const void *)memmove : (const void *)memset; }
