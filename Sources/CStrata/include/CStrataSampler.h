// The guest profiler's sampler: a timer signal on one thread that records the Wasm stack it
// interrupts (compiled frames by their frame pointers, interpreter frames from the store's
// execution state), into a buffer read once sampling stops. See docs/ARCHITECTURE.md,
// "Guest profiler".
#ifndef CSTRATA_SAMPLER_H
#define CSTRATA_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

/// Where the sampler finds the interpreter's state: the store's execution state and the
/// offsets of the fields it reads (Swift's layout, measured by the caller).
typedef struct StrataSamplerLayout {
    const void *execState;
    size_t framesOffset;          // CallFrame *frames
    size_t frameTopOffset;        // CallFrame *frameTop (one past the top record)
    size_t frameEndOffset;        // CallFrame *frameEnd (the records a call may fill end here)
    size_t currentOffset;         // FunctionCode *current
    size_t vmctxOffset;           // StrataVMContext *vmctx
    size_t markersOffset;         // uintptr_t *activationMarkers
    size_t markerCountOffset;     // intptr_t activationCount
    size_t frameStride;           // sizeof(CallFrame)
    size_t frameReturnPCOffset;   // CallFrame.returnPC (NULL for an activation's entry frame)
    size_t frameFunctionOffset;   // CallFrame.function
    size_t frameVMContextOffset;  // CallFrame.vmctx
} StrataSamplerLayout;

/// Item tags in a sample (low byte of an item's first word; the tier is the next byte).
#define STRATA_SAMPLE_COMPILED 1     // words: tag | tier << 8 | functionIndex << 32, owner (CompiledCode)
#define STRATA_SAMPLE_INTERPRETED 2  // words: tag, FunctionCode *, then the vmctx in the third word
#define STRATA_SAMPLE_ITEM_WORDS 3
#define STRATA_SAMPLE_MAX_ITEMS 512

/// Starts sampling the calling thread every `intervalNanoseconds` of wall-clock time (SIGPROF
/// from a CLOCK_MONOTONIC timer aimed at the thread: a CPU-time timer fires only at scheduler
/// ticks, 4 ms apart on common kernels). A thread blocked in a host call is sampled there. Samples go to a buffer of `bufferBytes` reserved
/// lazily; when it is full, later samples are counted as dropped. One sampler per process:
/// returns 0, EBUSY when one runs, or the errno of the failing call.
int strata_sampler_start(const StrataSamplerLayout *layout, uint64_t intervalNanoseconds, size_t bufferBytes);

/// Stops the timer; the handler stays installed (a queued signal must not meet the default
/// action) and passes signals it does not take to the handler installed before it. The
/// buffer stays readable until `strata_sampler_release`.
void strata_sampler_stop(void);

/// The recorded samples: a sequence of records, each a word `items` followed by `items` items
/// of STRATA_SAMPLE_ITEM_WORDS words, innermost frame first. `words` is the used length.
const uint64_t *strata_sampler_buffer(size_t *words, uint64_t *samples, uint64_t *dropped);

/// Frees the buffer.
void strata_sampler_release(void);

/// The stack pointer of the caller (an activation's position on the native stack).
static inline uintptr_t strata_stack_pointer(void) {
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

#endif
