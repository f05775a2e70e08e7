// Strata's JIT runtime contracts in C: the code registry the signal handler reads, the trap
// sites of compiled functions, the per-thread trap record, and signal-handler installation.
// See docs/ARCHITECTURE.md ("Compiled code" and "Traps in compiled code").
#ifndef CSTRATA_JIT_H
#define CSTRATA_JIT_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Trap kind of a site whose kind is computed at run time: the kind is in eax at the fault.
#define STRATA_TRAP_KIND_DYNAMIC 0xFFFFu
/// Not a trap: the status a function that makes tail calls returns to its own entry wrapper
/// when it leaves for a tail call (the callee and arguments are in the VM context's
/// `tailCall`). Never seen by other callers.
#define STRATA_STATUS_TAIL_CALL 0xFFFEu
/// The trap kind of a Wasm exception being thrown (`TrapKind.exception`): the trap handler
/// looks for a catching `try_table` in the compiled frames it unwinds.
#define STRATA_TRAP_KIND_EXCEPTION 14u

/// One instruction of compiled code that may fault or that raises a trap (`ud2`).
typedef struct StrataTrapSite {
    uint32_t codeOffset;    // offset of the instruction from the function's start
    uint32_t kind;          // a TrapKind raw value, or STRATA_TRAP_KIND_DYNAMIC
    uint32_t wasmOffset;    // byte offset of the Wasm instruction in the module
} StrataTrapSite;

/// One compiled function as the registry knows it. Owned by the code's owner (a module's
/// compiled-code object); must stay valid while registered.
typedef struct StrataCodeRange {
    uintptr_t start;                 // first byte of machine code
    uintptr_t end;                   // one past the last byte
    const StrataTrapSite *traps;     // sorted by codeOffset
    uint32_t trapCount;
    uint32_t functionIndex;          // in the module's function index space
    const uint32_t *callSites;       // pairs (return-address offset, Wasm offset), sorted
    uint32_t callSiteCount;
    uint32_t tier;                   // 1 = baseline
    void *owner;                     // unmanaged pointer to the Swift object owning the code
    const uint32_t *handlers;        // try_table handlers: triples (first Wasm offset, end Wasm
                                     // offset, landing-pad code offset), innermost first
    uint32_t handlerCount;
} StrataCodeRange;

/// Adds ranges / removes the `count` ranges of one array (thread-safe; readers never block).
void strata_registry_add(const StrataCodeRange *const *ranges, size_t count);
void strata_registry_remove(const StrataCodeRange *first, size_t count);
/// The range holding `pc`, or NULL. Safe in signal handlers. The result stays valid while the
/// caller holds the code alive (the registry only stores pointers).
const StrataCodeRange *strata_registry_lookup(uintptr_t pc);
/// The trap site at `codeOffset` of `range`, or NULL.
const StrataTrapSite *strata_trap_site(const StrataCodeRange *range, uint32_t codeOffset);

/// What the signal handler leaves for the host entry that resumes after a trap.
#define STRATA_TRAP_MAX_FRAMES 256
typedef struct StrataTrapRecord {
    uint32_t kind;
    uint32_t frameCount;            // pcs[0] is the faulting pc, then return addresses
    uint32_t truncated;             // more frames than fit
    uint32_t _pad;
    uintptr_t pcs[STRATA_TRAP_MAX_FRAMES];
} StrataTrapRecord;
StrataTrapRecord *strata_trap_record(void);

/// Tells the handler where host entries into compiled code are: the return address of the
/// entry trampoline's call (marks an entry frame) and the landing that returns a trap kind.
/// `entryFrameSize`: bytes between the entry frame pointer and the stack pointer at landing.
void strata_set_entry_trampoline(uintptr_t returnAddress, uintptr_t landing, uintptr_t entryFrameSize);

/// Registers DWARF unwind information (an .eh_frame CIE and FDEs placed in the code mapping)
/// with libunwind for the code in [start, end): `table` holds `entries` pairs of int32
/// (function start - segbase, FDE address - segbase), sorted. Returns a handle.
void *strata_unwind_register(uintptr_t start, uintptr_t end, uintptr_t segbase, const int32_t *table, size_t entries);
void strata_unwind_unregister(void *handle);
/// The procedure libunwind finds for `pc` (start, end), or 0 when it has no information.
int strata_unwind_lookup(uintptr_t pc, uintptr_t *start, uintptr_t *end);

/// Where code that raises a trap or exception without a signal goes on: `pc` with rbp = `fp`
/// (a landing pad, or the entry trampoline's landing with the kind in eax); pc 0 when the
/// frames are not ours all the way (then raise it with a signal as usual).
typedef struct StrataResume {
    uintptr_t pc;
    uintptr_t fp;
} StrataResume;
/// Raises trap `kind` (an exception, in practice) from compiled code at trap site `pc` of the
/// frame whose rbp is `fp`, as the trap handler would with the frame-pointer walk: the first
/// frame with a landing pad for an exception resumes there, otherwise the entry frame does,
/// with the frames recorded for the backtrace. Called by `throw` in compiled code.
StrataResume strata_raise(uintptr_t fp, uintptr_t pc, uint32_t kind);

/// How the trap handler walks compiled frames to the entry frame.
#define STRATA_UNWIND_LIBUNWIND 0       // libunwind with the registered unwind information
#define STRATA_UNWIND_FRAME_POINTERS 1  // the rbp chain every compiled frame keeps (fast path)
void strata_set_trap_unwinder(int unwinder);
int strata_trap_unwinder(void);

/// Installs SIGSEGV, SIGBUS, SIGFPE and SIGILL handlers once per process, chaining to the
/// handlers installed before for faults outside compiled code. Returns 0 on success.
int strata_install_signal_handlers(void);
/// Gives the calling thread an alternate signal stack (once per thread).
void strata_thread_prepare(void);
/// Lowest address compiled code may use on this thread's stack (with a safety margin).
uintptr_t strata_thread_stack_limit(void);
/// The calling thread's kernel id (gettid), for profilers' records.
uint32_t strata_thread_id(void);
/// The calling thread's stack: its lowest address and size (NULL and 0 when unknown).
void strata_thread_stack_bounds(void **low, size_t *size);

/// Starts a detached thread running `run(argument)`, queued on a core other than the calling
/// thread's when the process may use another: Linux queues a new thread on its creator's core,
/// where it waits for the load balancer while the creator keeps that core busy (0.5-5 ms on a
/// two-core VM, against 0.1-0.2 ms elsewhere). Once running, the thread may run anywhere the
/// process may. Returns 0, or the `pthread_create` error.
int strata_thread_start(void *(*run)(void *), void *argument);

/// libc's `memmove` (0) and `memset` (1), for the builtin table's `memory.copy` and
/// `memory.fill` slots (compiled code calls them once it has checked the ranges).
const void *strata_libc_function(int which);

/// The GNU build id of the binary (executable or shared library) Strata's code is linked
/// into: copies up to `capacity` bytes to `out` and returns how many (0: none).
size_t strata_build_id(uint8_t *out, size_t capacity);

/// CPU features compiled code may use (bit set = present).
#define STRATA_CPU_SSE41  (1u << 0)
#define STRATA_CPU_POPCNT (1u << 1)
#define STRATA_CPU_LZCNT  (1u << 2)
#define STRATA_CPU_BMI1   (1u << 3)
#define STRATA_CPU_AVX    (1u << 4)
#define STRATA_CPU_BMI2   (1u << 5)
#define STRATA_CPU_SSE42  (1u << 6)
uint32_t strata_cpu_features(void);

/// Flushes nothing on x86-64 (coherent instruction cache); a full fence so code written by
/// one thread is visible before its entry slot is published.
void strata_publish_fence(void);

/// The GDB JIT interface: registers an in-memory object file (which must stay alive and
/// unchanged until unregistered) with debuggers; returns a handle (NULL: out of memory).
void *strata_gdb_jit_register(const void *object, uint64_t size);
void strata_gdb_jit_unregister(void *handle);
/// The objects registered now, newest first (up to `capacity`); returns their count (tests).
size_t strata_gdb_jit_entries(const void **objects, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
