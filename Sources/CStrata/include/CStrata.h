// Strata's C-layout contracts. Compiled code (the JIT tiers) reads these blocks at fixed
// offsets, so their layout is part of the engine's ABI: see docs/ARCHITECTURE.md.
#ifndef CSTRATA_H
#define CSTRATA_H

#include <stdint.h>
#include <stddef.h>
#include "CStrataJIT.h"

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
} StrataFuncRef;

/// The per-instance VM context: one block reached through one pointer.
typedef struct StrataVMContext {
    StrataMemoryDefinition *memory0;     // offset 0: memory 0 (NULL when the module has none)
    uint64_t **globals;                  // offset 8: one cell pointer per global (imports included)
    StrataTableDefinition **tables;      // offset 16: one definition pointer per table
    StrataFuncRef **functions;           // offset 24: one funcref per function (imports first)
    const void **entryTable;             // offset 32: the module's entry table (defined functions)
    uint32_t *typeIDs;                   // offset 40: canonical type id per module type index
    uint64_t stackLimit;                 // offset 48: lowest usable native stack address (JIT)
    volatile uint32_t *interruptFlag;    // offset 56: non-zero asks running code to stop
    void *instance;                      // offset 64: unmanaged pointer to the Swift instance
    const void *const *builtins;         // offset 72: runtime functions compiled code calls
} StrataVMContext;

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
static inline void strata_hotness_set_threshold(StrataHotness *h, int64_t at) { __atomic_store_n(&h->tierUpAt, at, __ATOMIC_RELAXED); }

/// Entry-table slots are swapped atomically by later tiers.
static inline const void *strata_load_entry(const void *const *slot) {
    return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}
static inline void strata_store_entry(const void **slot, const void *value) {
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
}


// ---------------------------------------------------------------------------------------
// Interpreter dispatch glue (direct threading).
//
// The interpreter's code stream holds handler addresses. Each handler is a C function that
// runs its instruction (a Swift function, `strata_op_NAME`, exported with @_cdecl: the
// semantics live in Swift) and then tail-calls the handler of the next instruction with a
// guaranteed tail call, so control goes from handler to handler without a central loop or
// switch and without growing the native stack. An operation returns the next pc, or NULL to
// leave the chain (a trap, or the return of the activation's entry frame).

/// What an operation returns: the next pc (NULL ends the chain), and the frame pointer and
/// state to continue with. Returned in registers (Swift calling convention), so handlers keep
/// nothing across the call.
typedef struct StrataNext {
    uint64_t *pc;
    uint64_t *fp;
    void *state;
} StrataNext;

typedef void (*strata_handler)(uint64_t *pc, uint64_t *fp, void *state);

/// Runs handlers from `pc` until an operation returns NULL.
void strata_run(uint64_t *pc, uint64_t *fp, void *state);

/// Every interpreter instruction (the second argument, PLAIN or FRAME, says whether it may
/// change the frame pointer; calls and returns do).
#define STRATA_INTERPRETER_OPS(X) \
    X(copy, PLAIN) \
    X(select, PLAIN) \
    X(unreachable, PLAIN) \
    X(br, PLAIN) \
    X(br_if, PLAIN) \
    X(br_if_not, PLAIN) \
    X(br_back, PLAIN) \
    X(br_if_back, PLAIN) \
    X(br_table, PLAIN) \
    X(i32_eqz, PLAIN) \
    X(i64_eqz, PLAIN) \
    X(i32_eq, PLAIN) \
    X(i32_ne, PLAIN) \
    X(i32_lt_s, PLAIN) \
    X(i32_lt_u, PLAIN) \
    X(i32_gt_s, PLAIN) \
    X(i32_gt_u, PLAIN) \
    X(i32_le_s, PLAIN) \
    X(i32_le_u, PLAIN) \
    X(i32_ge_s, PLAIN) \
    X(i32_ge_u, PLAIN) \
    X(i64_eq, PLAIN) \
    X(i64_ne, PLAIN) \
    X(i64_lt_s, PLAIN) \
    X(i64_lt_u, PLAIN) \
    X(i64_gt_s, PLAIN) \
    X(i64_gt_u, PLAIN) \
    X(i64_le_s, PLAIN) \
    X(i64_le_u, PLAIN) \
    X(i64_ge_s, PLAIN) \
    X(i64_ge_u, PLAIN) \
    X(f32_eq, PLAIN) \
    X(f32_ne, PLAIN) \
    X(f32_lt, PLAIN) \
    X(f32_gt, PLAIN) \
    X(f32_le, PLAIN) \
    X(f32_ge, PLAIN) \
    X(f64_eq, PLAIN) \
    X(f64_ne, PLAIN) \
    X(f64_lt, PLAIN) \
    X(f64_gt, PLAIN) \
    X(f64_le, PLAIN) \
    X(f64_ge, PLAIN) \
    X(i32_clz, PLAIN) \
    X(i32_ctz, PLAIN) \
    X(i32_popcnt, PLAIN) \
    X(i32_add, PLAIN) \
    X(i32_sub, PLAIN) \
    X(i32_mul, PLAIN) \
    X(i32_div_s, PLAIN) \
    X(i32_div_u, PLAIN) \
    X(i32_rem_s, PLAIN) \
    X(i32_rem_u, PLAIN) \
    X(i32_and, PLAIN) \
    X(i32_or, PLAIN) \
    X(i32_xor, PLAIN) \
    X(i32_shl, PLAIN) \
    X(i32_shr_s, PLAIN) \
    X(i32_shr_u, PLAIN) \
    X(i32_rotl, PLAIN) \
    X(i32_rotr, PLAIN) \
    X(i64_clz, PLAIN) \
    X(i64_ctz, PLAIN) \
    X(i64_popcnt, PLAIN) \
    X(i64_add, PLAIN) \
    X(i64_sub, PLAIN) \
    X(i64_mul, PLAIN) \
    X(i64_div_s, PLAIN) \
    X(i64_div_u, PLAIN) \
    X(i64_rem_s, PLAIN) \
    X(i64_rem_u, PLAIN) \
    X(i64_and, PLAIN) \
    X(i64_or, PLAIN) \
    X(i64_xor, PLAIN) \
    X(i64_shl, PLAIN) \
    X(i64_shr_s, PLAIN) \
    X(i64_shr_u, PLAIN) \
    X(i64_rotl, PLAIN) \
    X(i64_rotr, PLAIN) \
    X(f32_abs, PLAIN) \
    X(f32_neg, PLAIN) \
    X(f32_ceil, PLAIN) \
    X(f32_floor, PLAIN) \
    X(f32_trunc, PLAIN) \
    X(f32_nearest, PLAIN) \
    X(f32_sqrt, PLAIN) \
    X(f32_add, PLAIN) \
    X(f32_sub, PLAIN) \
    X(f32_mul, PLAIN) \
    X(f32_div, PLAIN) \
    X(f32_min, PLAIN) \
    X(f32_max, PLAIN) \
    X(f32_copysign, PLAIN) \
    X(f64_abs, PLAIN) \
    X(f64_neg, PLAIN) \
    X(f64_ceil, PLAIN) \
    X(f64_floor, PLAIN) \
    X(f64_trunc, PLAIN) \
    X(f64_nearest, PLAIN) \
    X(f64_sqrt, PLAIN) \
    X(f64_add, PLAIN) \
    X(f64_sub, PLAIN) \
    X(f64_mul, PLAIN) \
    X(f64_div, PLAIN) \
    X(f64_min, PLAIN) \
    X(f64_max, PLAIN) \
    X(f64_copysign, PLAIN) \
    X(i32_wrap_i64, PLAIN) \
    X(i64_extend_i32_s, PLAIN) \
    X(i64_extend_i32_u, PLAIN) \
    X(i32_extend8_s, PLAIN) \
    X(i32_extend16_s, PLAIN) \
    X(i64_extend8_s, PLAIN) \
    X(i64_extend16_s, PLAIN) \
    X(i64_extend32_s, PLAIN) \
    X(i32_trunc_f32_s, PLAIN) \
    X(i32_trunc_f32_u, PLAIN) \
    X(i32_trunc_f64_s, PLAIN) \
    X(i32_trunc_f64_u, PLAIN) \
    X(i64_trunc_f32_s, PLAIN) \
    X(i64_trunc_f32_u, PLAIN) \
    X(i64_trunc_f64_s, PLAIN) \
    X(i64_trunc_f64_u, PLAIN) \
    X(i32_trunc_sat_f32_s, PLAIN) \
    X(i32_trunc_sat_f32_u, PLAIN) \
    X(i32_trunc_sat_f64_s, PLAIN) \
    X(i32_trunc_sat_f64_u, PLAIN) \
    X(i64_trunc_sat_f32_s, PLAIN) \
    X(i64_trunc_sat_f32_u, PLAIN) \
    X(i64_trunc_sat_f64_s, PLAIN) \
    X(i64_trunc_sat_f64_u, PLAIN) \
    X(f32_convert_i32_s, PLAIN) \
    X(f32_convert_i32_u, PLAIN) \
    X(f32_convert_i64_s, PLAIN) \
    X(f32_convert_i64_u, PLAIN) \
    X(f32_demote_f64, PLAIN) \
    X(f64_convert_i32_s, PLAIN) \
    X(f64_convert_i32_u, PLAIN) \
    X(f64_convert_i64_s, PLAIN) \
    X(f64_convert_i64_u, PLAIN) \
    X(f64_promote_f32, PLAIN) \
    X(move32, PLAIN) \
    X(i32_load, PLAIN) \
    X(i64_load, PLAIN) \
    X(i32_load8_s, PLAIN) \
    X(i32_load8_u, PLAIN) \
    X(i32_load16_s, PLAIN) \
    X(i32_load16_u, PLAIN) \
    X(i64_load8_s, PLAIN) \
    X(i64_load16_s, PLAIN) \
    X(i64_load32_s, PLAIN) \
    X(i32_store, PLAIN) \
    X(i64_store, PLAIN) \
    X(store8, PLAIN) \
    X(store16, PLAIN) \
    X(memory_size, PLAIN) \
    X(memory_grow, PLAIN) \
    X(global_get, PLAIN) \
    X(global_set, PLAIN) \
    X(memory_init, PLAIN) \
    X(data_drop, PLAIN) \
    X(memory_copy, PLAIN) \
    X(memory_fill, PLAIN) \
    X(table_get, PLAIN) \
    X(table_set, PLAIN) \
    X(table_size, PLAIN) \
    X(table_grow, PLAIN) \
    X(table_fill, PLAIN) \
    X(table_copy, PLAIN) \
    X(table_init, PLAIN) \
    X(elem_drop, PLAIN) \
    X(ref_func, PLAIN) \
    X(ref_is_null, PLAIN) \
    X(call, FRAME) \
    X(call_import, FRAME) \
    X(call_indirect, FRAME) \
    X(return, FRAME) \
    X(br_if_i32_eq, PLAIN) \
    X(br_if_i32_eq_back, PLAIN) \
    X(br_if_i32_ne, PLAIN) \
    X(br_if_i32_ne_back, PLAIN) \
    X(br_if_i32_lt_s, PLAIN) \
    X(br_if_i32_lt_s_back, PLAIN) \
    X(br_if_i32_lt_u, PLAIN) \
    X(br_if_i32_lt_u_back, PLAIN) \
    X(br_if_i32_gt_s, PLAIN) \
    X(br_if_i32_gt_s_back, PLAIN) \
    X(br_if_i32_gt_u, PLAIN) \
    X(br_if_i32_gt_u_back, PLAIN) \
    X(br_if_i32_le_s, PLAIN) \
    X(br_if_i32_le_s_back, PLAIN) \
    X(br_if_i32_le_u, PLAIN) \
    X(br_if_i32_le_u_back, PLAIN) \
    X(br_if_i32_ge_s, PLAIN) \
    X(br_if_i32_ge_s_back, PLAIN) \
    X(br_if_i32_ge_u, PLAIN) \
    X(br_if_i32_ge_u_back, PLAIN) \
    X(br_if_i64_eq, PLAIN) \
    X(br_if_i64_eq_back, PLAIN) \
    X(br_if_i64_ne, PLAIN) \
    X(br_if_i64_ne_back, PLAIN) \
    X(br_if_i64_lt_s, PLAIN) \
    X(br_if_i64_lt_s_back, PLAIN) \
    X(br_if_i64_lt_u, PLAIN) \
    X(br_if_i64_lt_u_back, PLAIN) \
    X(br_if_i64_gt_s, PLAIN) \
    X(br_if_i64_gt_s_back, PLAIN) \
    X(br_if_i64_gt_u, PLAIN) \
    X(br_if_i64_gt_u_back, PLAIN) \
    X(br_if_i64_le_s, PLAIN) \
    X(br_if_i64_le_s_back, PLAIN) \
    X(br_if_i64_le_u, PLAIN) \
    X(br_if_i64_le_u_back, PLAIN) \
    X(br_if_i64_ge_s, PLAIN) \
    X(br_if_i64_ge_s_back, PLAIN) \
    X(br_if_i64_ge_u, PLAIN) \
    X(br_if_i64_ge_u_back, PLAIN) \
    X(br_if_not_back, PLAIN) \
    X(i32_add_shl, PLAIN) \
    X(v128_load, PLAIN) \
    X(v128_load8x8_s, PLAIN) \
    X(v128_load8x8_u, PLAIN) \
    X(v128_load16x4_s, PLAIN) \
    X(v128_load16x4_u, PLAIN) \
    X(v128_load32x2_s, PLAIN) \
    X(v128_load32x2_u, PLAIN) \
    X(v128_load8_splat, PLAIN) \
    X(v128_load16_splat, PLAIN) \
    X(v128_load32_splat, PLAIN) \
    X(v128_load64_splat, PLAIN) \
    X(v128_store, PLAIN) \
    X(i8x16_shuffle, PLAIN) \
    X(i8x16_swizzle, PLAIN) \
    X(i8x16_splat, PLAIN) \
    X(i16x8_splat, PLAIN) \
    X(i32x4_splat, PLAIN) \
    X(i64x2_splat, PLAIN) \
    X(f32x4_splat, PLAIN) \
    X(f64x2_splat, PLAIN) \
    X(i8x16_extract_lane_s, PLAIN) \
    X(i8x16_extract_lane_u, PLAIN) \
    X(i8x16_replace_lane, PLAIN) \
    X(i16x8_extract_lane_s, PLAIN) \
    X(i16x8_extract_lane_u, PLAIN) \
    X(i16x8_replace_lane, PLAIN) \
    X(i32x4_extract_lane, PLAIN) \
    X(i32x4_replace_lane, PLAIN) \
    X(i64x2_extract_lane, PLAIN) \
    X(i64x2_replace_lane, PLAIN) \
    X(f32x4_extract_lane, PLAIN) \
    X(f32x4_replace_lane, PLAIN) \
    X(f64x2_extract_lane, PLAIN) \
    X(f64x2_replace_lane, PLAIN) \
    X(i8x16_eq, PLAIN) \
    X(i8x16_ne, PLAIN) \
    X(i8x16_lt_s, PLAIN) \
    X(i8x16_lt_u, PLAIN) \
    X(i8x16_gt_s, PLAIN) \
    X(i8x16_gt_u, PLAIN) \
    X(i8x16_le_s, PLAIN) \
    X(i8x16_le_u, PLAIN) \
    X(i8x16_ge_s, PLAIN) \
    X(i8x16_ge_u, PLAIN) \
    X(i16x8_eq, PLAIN) \
    X(i16x8_ne, PLAIN) \
    X(i16x8_lt_s, PLAIN) \
    X(i16x8_lt_u, PLAIN) \
    X(i16x8_gt_s, PLAIN) \
    X(i16x8_gt_u, PLAIN) \
    X(i16x8_le_s, PLAIN) \
    X(i16x8_le_u, PLAIN) \
    X(i16x8_ge_s, PLAIN) \
    X(i16x8_ge_u, PLAIN) \
    X(i32x4_eq, PLAIN) \
    X(i32x4_ne, PLAIN) \
    X(i32x4_lt_s, PLAIN) \
    X(i32x4_lt_u, PLAIN) \
    X(i32x4_gt_s, PLAIN) \
    X(i32x4_gt_u, PLAIN) \
    X(i32x4_le_s, PLAIN) \
    X(i32x4_le_u, PLAIN) \
    X(i32x4_ge_s, PLAIN) \
    X(i32x4_ge_u, PLAIN) \
    X(f32x4_eq, PLAIN) \
    X(f32x4_ne, PLAIN) \
    X(f32x4_lt, PLAIN) \
    X(f32x4_gt, PLAIN) \
    X(f32x4_le, PLAIN) \
    X(f32x4_ge, PLAIN) \
    X(f64x2_eq, PLAIN) \
    X(f64x2_ne, PLAIN) \
    X(f64x2_lt, PLAIN) \
    X(f64x2_gt, PLAIN) \
    X(f64x2_le, PLAIN) \
    X(f64x2_ge, PLAIN) \
    X(v128_not, PLAIN) \
    X(v128_and, PLAIN) \
    X(v128_andnot, PLAIN) \
    X(v128_or, PLAIN) \
    X(v128_xor, PLAIN) \
    X(v128_bitselect, PLAIN) \
    X(v128_any_true, PLAIN) \
    X(v128_load8_lane, PLAIN) \
    X(v128_load16_lane, PLAIN) \
    X(v128_load32_lane, PLAIN) \
    X(v128_load64_lane, PLAIN) \
    X(v128_store8_lane, PLAIN) \
    X(v128_store16_lane, PLAIN) \
    X(v128_store32_lane, PLAIN) \
    X(v128_store64_lane, PLAIN) \
    X(v128_load32_zero, PLAIN) \
    X(v128_load64_zero, PLAIN) \
    X(f32x4_demote_f64x2_zero, PLAIN) \
    X(f64x2_promote_low_f32x4, PLAIN) \
    X(i8x16_abs, PLAIN) \
    X(i8x16_neg, PLAIN) \
    X(i8x16_popcnt, PLAIN) \
    X(i8x16_all_true, PLAIN) \
    X(i8x16_bitmask, PLAIN) \
    X(i8x16_narrow_i16x8_s, PLAIN) \
    X(i8x16_narrow_i16x8_u, PLAIN) \
    X(f32x4_ceil, PLAIN) \
    X(f32x4_floor, PLAIN) \
    X(f32x4_trunc, PLAIN) \
    X(f32x4_nearest, PLAIN) \
    X(i8x16_shl, PLAIN) \
    X(i8x16_shr_s, PLAIN) \
    X(i8x16_shr_u, PLAIN) \
    X(i8x16_add, PLAIN) \
    X(i8x16_add_sat_s, PLAIN) \
    X(i8x16_add_sat_u, PLAIN) \
    X(i8x16_sub, PLAIN) \
    X(i8x16_sub_sat_s, PLAIN) \
    X(i8x16_sub_sat_u, PLAIN) \
    X(f64x2_ceil, PLAIN) \
    X(f64x2_floor, PLAIN) \
    X(i8x16_min_s, PLAIN) \
    X(i8x16_min_u, PLAIN) \
    X(i8x16_max_s, PLAIN) \
    X(i8x16_max_u, PLAIN) \
    X(f64x2_trunc, PLAIN) \
    X(i8x16_avgr_u, PLAIN) \
    X(i16x8_extadd_pairwise_i8x16_s, PLAIN) \
    X(i16x8_extadd_pairwise_i8x16_u, PLAIN) \
    X(i32x4_extadd_pairwise_i16x8_s, PLAIN) \
    X(i32x4_extadd_pairwise_i16x8_u, PLAIN) \
    X(i16x8_abs, PLAIN) \
    X(i16x8_neg, PLAIN) \
    X(i16x8_q15mulr_sat_s, PLAIN) \
    X(i16x8_all_true, PLAIN) \
    X(i16x8_bitmask, PLAIN) \
    X(i16x8_narrow_i32x4_s, PLAIN) \
    X(i16x8_narrow_i32x4_u, PLAIN) \
    X(i16x8_extend_low_i8x16_s, PLAIN) \
    X(i16x8_extend_high_i8x16_s, PLAIN) \
    X(i16x8_extend_low_i8x16_u, PLAIN) \
    X(i16x8_extend_high_i8x16_u, PLAIN) \
    X(i16x8_shl, PLAIN) \
    X(i16x8_shr_s, PLAIN) \
    X(i16x8_shr_u, PLAIN) \
    X(i16x8_add, PLAIN) \
    X(i16x8_add_sat_s, PLAIN) \
    X(i16x8_add_sat_u, PLAIN) \
    X(i16x8_sub, PLAIN) \
    X(i16x8_sub_sat_s, PLAIN) \
    X(i16x8_sub_sat_u, PLAIN) \
    X(f64x2_nearest, PLAIN) \
    X(i16x8_mul, PLAIN) \
    X(i16x8_min_s, PLAIN) \
    X(i16x8_min_u, PLAIN) \
    X(i16x8_max_s, PLAIN) \
    X(i16x8_max_u, PLAIN) \
    X(i16x8_avgr_u, PLAIN) \
    X(i16x8_extmul_low_i8x16_s, PLAIN) \
    X(i16x8_extmul_high_i8x16_s, PLAIN) \
    X(i16x8_extmul_low_i8x16_u, PLAIN) \
    X(i16x8_extmul_high_i8x16_u, PLAIN) \
    X(i32x4_abs, PLAIN) \
    X(i32x4_neg, PLAIN) \
    X(i32x4_all_true, PLAIN) \
    X(i32x4_bitmask, PLAIN) \
    X(i32x4_extend_low_i16x8_s, PLAIN) \
    X(i32x4_extend_high_i16x8_s, PLAIN) \
    X(i32x4_extend_low_i16x8_u, PLAIN) \
    X(i32x4_extend_high_i16x8_u, PLAIN) \
    X(i32x4_shl, PLAIN) \
    X(i32x4_shr_s, PLAIN) \
    X(i32x4_shr_u, PLAIN) \
    X(i32x4_add, PLAIN) \
    X(i32x4_sub, PLAIN) \
    X(i32x4_mul, PLAIN) \
    X(i32x4_min_s, PLAIN) \
    X(i32x4_min_u, PLAIN) \
    X(i32x4_max_s, PLAIN) \
    X(i32x4_max_u, PLAIN) \
    X(i32x4_dot_i16x8_s, PLAIN) \
    X(i32x4_extmul_low_i16x8_s, PLAIN) \
    X(i32x4_extmul_high_i16x8_s, PLAIN) \
    X(i32x4_extmul_low_i16x8_u, PLAIN) \
    X(i32x4_extmul_high_i16x8_u, PLAIN) \
    X(i64x2_abs, PLAIN) \
    X(i64x2_neg, PLAIN) \
    X(i64x2_all_true, PLAIN) \
    X(i64x2_bitmask, PLAIN) \
    X(i64x2_extend_low_i32x4_s, PLAIN) \
    X(i64x2_extend_high_i32x4_s, PLAIN) \
    X(i64x2_extend_low_i32x4_u, PLAIN) \
    X(i64x2_extend_high_i32x4_u, PLAIN) \
    X(i64x2_shl, PLAIN) \
    X(i64x2_shr_s, PLAIN) \
    X(i64x2_shr_u, PLAIN) \
    X(i64x2_add, PLAIN) \
    X(i64x2_sub, PLAIN) \
    X(i64x2_mul, PLAIN) \
    X(i64x2_eq, PLAIN) \
    X(i64x2_ne, PLAIN) \
    X(i64x2_lt_s, PLAIN) \
    X(i64x2_gt_s, PLAIN) \
    X(i64x2_le_s, PLAIN) \
    X(i64x2_ge_s, PLAIN) \
    X(i64x2_extmul_low_i32x4_s, PLAIN) \
    X(i64x2_extmul_high_i32x4_s, PLAIN) \
    X(i64x2_extmul_low_i32x4_u, PLAIN) \
    X(i64x2_extmul_high_i32x4_u, PLAIN) \
    X(f32x4_abs, PLAIN) \
    X(f32x4_neg, PLAIN) \
    X(f32x4_sqrt, PLAIN) \
    X(f32x4_add, PLAIN) \
    X(f32x4_sub, PLAIN) \
    X(f32x4_mul, PLAIN) \
    X(f32x4_div, PLAIN) \
    X(f32x4_min, PLAIN) \
    X(f32x4_max, PLAIN) \
    X(f32x4_pmin, PLAIN) \
    X(f32x4_pmax, PLAIN) \
    X(f64x2_abs, PLAIN) \
    X(f64x2_neg, PLAIN) \
    X(f64x2_sqrt, PLAIN) \
    X(f64x2_add, PLAIN) \
    X(f64x2_sub, PLAIN) \
    X(f64x2_mul, PLAIN) \
    X(f64x2_div, PLAIN) \
    X(f64x2_min, PLAIN) \
    X(f64x2_max, PLAIN) \
    X(f64x2_pmin, PLAIN) \
    X(f64x2_pmax, PLAIN) \
    X(i32x4_trunc_sat_f32x4_s, PLAIN) \
    X(i32x4_trunc_sat_f32x4_u, PLAIN) \
    X(f32x4_convert_i32x4_s, PLAIN) \
    X(f32x4_convert_i32x4_u, PLAIN) \
    X(i32x4_trunc_sat_f64x2_s_zero, PLAIN) \
    X(i32x4_trunc_sat_f64x2_u_zero, PLAIN) \
    X(f64x2_convert_low_i32x4_s, PLAIN) \
    X(f64x2_convert_low_i32x4_u, PLAIN) \
    X(i8x16_relaxed_swizzle, PLAIN) \
    X(i32x4_relaxed_trunc_f32x4_s, PLAIN) \
    X(i32x4_relaxed_trunc_f32x4_u, PLAIN) \
    X(i32x4_relaxed_trunc_f64x2_s_zero, PLAIN) \
    X(i32x4_relaxed_trunc_f64x2_u_zero, PLAIN) \
    X(f32x4_relaxed_madd, PLAIN) \
    X(f32x4_relaxed_nmadd, PLAIN) \
    X(f64x2_relaxed_madd, PLAIN) \
    X(f64x2_relaxed_nmadd, PLAIN) \
    X(i8x16_relaxed_laneselect, PLAIN) \
    X(i16x8_relaxed_laneselect, PLAIN) \
    X(i32x4_relaxed_laneselect, PLAIN) \
    X(i64x2_relaxed_laneselect, PLAIN) \
    X(f32x4_relaxed_min, PLAIN) \
    X(f32x4_relaxed_max, PLAIN) \
    X(f64x2_relaxed_min, PLAIN) \
    X(f64x2_relaxed_max, PLAIN) \
    X(i16x8_relaxed_q15mulr_s, PLAIN) \
    X(i16x8_relaxed_dot_i8x16_i7x16_s, PLAIN) \
    X(i32x4_relaxed_dot_i8x16_i7x16_add_s, PLAIN)

#define STRATA_DECLARE_HANDLER(name, kind) void strata_h_##name(uint64_t *pc, uint64_t *fp, void *state);
STRATA_INTERPRETER_OPS(STRATA_DECLARE_HANDLER)
#undef STRATA_DECLARE_HANDLER

/// Names of the handlers, for code dumps.
typedef struct StrataHandlerName {
    const char *name;
    strata_handler handler;
} StrataHandlerName;
const StrataHandlerName *strata_handler_names(int *count);

#ifdef __cplusplus
}
#endif
#endif
