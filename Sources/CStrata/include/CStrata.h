// Strata's C-layout contracts. Compiled code (the JIT tiers) reads these blocks at fixed
// offsets, so their layout is part of the engine's ABI: see docs/ARCHITECTURE.md.
#ifndef CSTRATA_H
#define CSTRATA_H

#include <stdint.h>
#include <stddef.h>
#include "CStrataJIT.h"
#include "CStrataSampler.h"

#ifdef __cplusplus
extern "C" {
#endif

/// One linear memory as code sees it. Owned by the memory object; every instance that
/// defines or imports the memory points at the same block, so a grow is seen by all.
typedef struct StrataMemoryDefinition {
    uint8_t *base;          // start of the reservation (never moves)
    uint64_t byteSize;      // current accessible size in bytes (pages * 65536)
} StrataMemoryDefinition;

/// One table as code sees it: an array of references (0 = null).
typedef struct StrataTableDefinition {
    uint64_t *elements;
    uint64_t count;
} StrataTableDefinition;

/// A function reference: what `funcref` values point to and what tables hold.
/// Owned by the store, lives as long as the store.
typedef struct StrataFuncRef {
    uint32_t typeID;        // engine-wide canonical signature id
    uint32_t functionIndex; // index in the owning instance's function index space
    void *vmctx;            // the owning instance's StrataVMContext (NULL for host functions)
    void *owner;            // unmanaged pointer to the Swift function object
    const void *const *entrySlot; // the defining module's entry-table slot (NULL for host functions)
    const void *signature;  // the function's CallSignature (Swift), read by calls from the host
    const void *directEntry; // the register-argument entry of the record in its entry slot, or NULL
                             // (kept so by the defining module; read by optimized call_indirect)
} StrataFuncRef;

/// The most parameters a function type may have (the decoder's limit).
#define STRATA_MAX_PARAMS 1000

/// A tail call compiled code (or an interpreter activation that may hand one back) asks its
/// caller to make: the callee and its arguments. One per store, shared by its instances' VM
/// contexts; written right before the code returns `STRATA_STATUS_TAIL_CALL`, read at once by
/// the function that runs tail calls (`strata_builtin_tail_call`). See docs/ARCHITECTURE.md.
typedef struct StrataTailCall {
    StrataFuncRef *callee;               // offset 0
    uint64_t words;                      // offset 8: argument words (2 per parameter slot)
    uint64_t slots[2 * STRATA_MAX_PARAMS]; // offset 16: the arguments, 16-byte slots
} StrataTailCall;

/// The per-instance VM context: one block reached through one pointer. The page before it (in
/// the same mapping) is its interrupt page: read-only, unreadable while an interrupt is pending,
/// read by compiled code at loop headers (docs/ARCHITECTURE.md, Interruption).
typedef struct StrataVMContext {
    StrataMemoryDefinition *memory0;     // offset 0: memory 0 (NULL when the module has none)
    uint64_t **globals;                  // offset 8: one cell pointer per global (imports included)
    StrataTableDefinition **tables;      // offset 16: one definition pointer per table
    StrataFuncRef **functions;           // offset 24: one funcref per function (imports first)
    const void **entryTable;             // offset 32: the module's entry table (defined functions)
    uint32_t *typeIDs;                   // offset 40: canonical type id per module type index
    uint64_t stackLimit;                 // offset 48: lowest usable native stack address (JIT); all ones while an interrupt is pending
    void *instance;                      // offset 56: unmanaged pointer to the Swift instance
    const void *const *builtins;         // offset 64: runtime functions compiled code calls
    StrataMemoryDefinition **memories;   // offset 72: one definition pointer per memory (imports first)
    StrataTailCall *tailCall;            // offset 80: the store's pending tail call
    uint8_t *memory0Base;                // offset 88: memory 0's base (it never moves; NULL without a memory 0)
} StrataVMContext;
// The same allocation goes on past the context (96 bytes): a 16-byte cell per global the
// module defines, then a StrataFuncRef per function it defines (VMContextLayout.swift), which
// compiled code reaches at fixed offsets from the context.

/// Written by the store's thread and, for an interrupt, by any thread; read by compiled code.
static inline void strata_store_stack_limit(StrataVMContext *vmctx, uint64_t limit) {
    __atomic_store_n(&vmctx->stackLimit, limit, __ATOMIC_RELAXED);
}

/// The interpreter's call limit (`ExecState.callLimit`): written by any thread for an
/// interrupt, read by the thread running the store.
static inline uintptr_t strata_load_call_limit(const uintptr_t *limit) {
    return __atomic_load_n(limit, __ATOMIC_RELAXED);
}
static inline void strata_store_call_limit(uintptr_t *limit, uintptr_t value) {
    __atomic_store_n(limit, value, __ATOMIC_RELAXED);
}

/// Read the interrupt flag with acquire semantics.
static inline uint32_t strata_load_interrupt(const volatile uint32_t *flag) {
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}
static inline void strata_store_interrupt(volatile uint32_t *flag, uint32_t value) {
    __atomic_store_n(flag, value, __ATOMIC_RELEASE);
}
/// Tiering counters of one function. Shared by every thread running the module, so they are
/// relaxed atomics: plain loads and stores, no locked read-modify-write (a lost update only
/// delays a tier-up a little).
typedef struct StrataHotness {
    int64_t count;      // call weight per call plus loop weight per back edge
    int64_t tierUpAt;   // the count that requests a tier-up (INT64_MAX: never again)
} StrataHotness;

/// Adds `weight` and returns whether the tier-up threshold is reached.
static inline int strata_hotness_bump(StrataHotness *h, int64_t weight) {
    int64_t v = __atomic_load_n(&h->count, __ATOMIC_RELAXED) + weight;
    __atomic_store_n(&h->count, v, __ATOMIC_RELAXED);
    return v >= __atomic_load_n(&h->tierUpAt, __ATOMIC_RELAXED);
}
static inline int64_t strata_hotness_count(const StrataHotness *h) { return __atomic_load_n(&h->count, __ATOMIC_RELAXED); }
static inline void strata_hotness_set_count(StrataHotness *h, int64_t count) { __atomic_store_n(&h->count, count, __ATOMIC_RELAXED); }
static inline void strata_hotness_set_threshold(StrataHotness *h, int64_t at) { __atomic_store_n(&h->tierUpAt, at, __ATOMIC_RELAXED); }
static inline int64_t strata_hotness_threshold(const StrataHotness *h) { return __atomic_load_n(&h->tierUpAt, __ATOMIC_RELAXED); }

/// Entry-table slots are swapped atomically by later tiers.
static inline const void *strata_load_entry(const void *const *slot) {
    return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}
static inline void strata_store_entry(const void **slot, const void *value) {
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
}
/// Replaces `expected` in an entry slot with `value` (release); false when the slot held
/// something else (a later tier's code: lazy translation never takes a slot back from it).
static inline int strata_replace_entry(const void **slot, const void *expected, const void *value) {
    return __atomic_compare_exchange_n(slot, &expected, value, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}


/// The interpreter's inline cache words (`call_indirect`'s last callee): written by any thread
/// that runs the shared code, read without ordering (a stale or foreign value only misses).
static inline uint64_t strata_load_cache_word(const uint64_t *word) { return __atomic_load_n(word, __ATOMIC_RELAXED); }
static inline void strata_store_cache_word(uint64_t *word, uint64_t value) { __atomic_store_n(word, value, __ATOMIC_RELAXED); }

/// Where the interpreter's dispatch section lies (CStrataLayout.c): its bounds and the
/// 64-byte-aligned anchor that fixes the dispatch loop's placement.
void strata_dispatch_layout(uintptr_t *sectionStart, uintptr_t *sectionEnd, uintptr_t *anchor);

#ifdef __cplusplus
}
#endif
#endif
