// The interpreter's threaded dispatch: one C handler per opcode, each ending in its own
// indirect jump to the next instruction's handler (so the branch predictor sees each
// opcode's successors separately, instead of every operation sharing one `jmp *`). Without
// the attributes below the build has no handlers, `strata_threaded_handler_bits` is 0 and the
// interpreter runs its switch.
//
// Compiled as part of the Strata Swift module: ClangImporter emits these `static inline`
// functions into the module's LLVM module, so each handler's call to its Swift operation
// (`strata_op_<opcode>`, `@inline(__always)` in ThreadedOperations.swift) is inlined into it
// and there is no call per instruction. The handlers and their table are generated from the
// dispatch switch (Utilities/generate_threaded_dispatch.py). See docs/ARCHITECTURE.md,
// "Interpreter".
#ifndef CSTRATA_DISPATCH_H
#define CSTRATA_DISPATCH_H

#include <stdint.h>

#if defined(__clang__) && __has_attribute(swiftcall) && __has_attribute(swiftasynccall) && (defined(__x86_64__) || defined(__aarch64__))
#define STRATA_THREADED_DISPATCH 1
#else
#define STRATA_THREADED_DISPATCH 0
#endif

#if STRATA_THREADED_DISPATCH

/// Handlers use Swift's async calling convention, under which a call in return position is
/// always a tail call (`swifttailcc`; the callee pops its own arguments). Plain C `musttail`
/// is not usable here: the Swift compiler's function merging turns similar handlers into one
/// with an extra parameter, which `musttail` forbids.
#define STRATA_TC __attribute__((swiftasynccall))
#define STRATA_TC_STATE __attribute__((swift_context))
/// `iacc` and `facc` are the integer and float accumulators (IntegerAccumulator.swift,
/// AccumulatorHandlers.swift): a value that one instruction hands to the next in a register.
/// Only the operations that produce or consume one touch it; every other handler passes an
/// undefined value on (an accumulator is never live across them), so keeping them costs those
/// handlers nothing.
/// Every handler's parameters, written once: the typedef, the declarations and the definitions
/// below all use them.
#define STRATA_HANDLER_PARAMETERS uint64_t *pc, uint64_t *fp, uint64_t iacc, double facc, STRATA_TC_STATE void *st
typedef STRATA_TC void (*strata_handler)(STRATA_HANDLER_PARAMETERS);

/// An undefined f64 for the next handler's accumulator (clang reads a self-initialized local
/// as undefined, so the register is left as it is).
#define STRATA_DEAD_FACC(name)                                                                \
    _Pragma("clang diagnostic push") _Pragma("clang diagnostic ignored \"-Wuninitialized\"")  \
    double name = name;                                                                       \
    _Pragma("clang diagnostic pop")

/// An undefined integer accumulator for the next handler, the same way.
#define STRATA_DEAD_IACC(name)                                                                \
    _Pragma("clang diagnostic push") _Pragma("clang diagnostic ignored \"-Wuninitialized\"")  \
    uint64_t name = name;                                                                     \
    _Pragma("clang diagnostic pop")

#define STRATA_DECLARE_HANDLER(name)                                                          \
    __attribute__((swiftcall)) uint64_t *strata_op_##name(uint64_t *pc, uint64_t **fp, void *st); \
    STRATA_TC static void strata_handler_##name(STRATA_HANDLER_PARAMETERS);

#define STRATA_DECLARE_IACC_HANDLER(name)                                                     \
    __attribute__((swiftcall)) uint64_t *strata_op_##name(uint64_t *pc, uint64_t **fp, uint64_t *iacc, void *st); \
    STRATA_TC static void strata_handler_##name(STRATA_HANDLER_PARAMETERS);

#define STRATA_DECLARE_FACC_HANDLER(name)                                                     \
    __attribute__((swiftcall)) uint64_t *strata_op_##name(uint64_t *pc, uint64_t **fp, double *facc, void *st); \
    STRATA_TC static void strata_handler_##name(STRATA_HANDLER_PARAMETERS);

/// The handlers are emitted together, in the order of the table, and the first of them starts a
/// 4 KiB page, so the low 12 bits of every handler's address are the same in every build,
/// whatever the size of the code before them: a change to unrelated code no longer moves the
/// handlers by part of a page (moving them all by 128 bytes once made `long_loop` 8% faster;
/// docs/ARCHITECTURE.md, "Placement of the dispatch loop"). A declaration that adds the
/// alignment to the first handler's definition.
#define STRATA_PAGE_ALIGNED_HANDLER(name)                                                     \
    STRATA_TC __attribute__((aligned(4096))) static void strata_handler_##name(STRATA_HANDLER_PARAMETERS);

/// A handler: runs its Swift operation (inlined), then jumps to the next instruction's handler
/// (a tail call, which the calling convention guarantees), or returns when the operation ends the run.
#define STRATA_DEFINE_HANDLER(name)                                                           \
    STRATA_TC __attribute__((aligned(64))) static void strata_handler_##name(STRATA_HANDLER_PARAMETERS) { \
        (void)iacc; (void)facc;                                                               \
        uint64_t *frame = fp;                                                                 \
        uint64_t *next;                                                                       \
        [[clang::always_inline]] next = strata_op_##name(pc, &frame, st);                     \
        if (__builtin_expect(next == 0, 0)) return;                                           \
        STRATA_DEAD_IACC(dead_iacc)                                                           \
        STRATA_DEAD_FACC(dead)                                                                \
        return ((strata_handler)(uintptr_t)(*next >> 16))(next, frame, dead_iacc, dead, st);  \
    }

/// The handler of an operation that produces or consumes the integer accumulator: it goes on
/// to the next handler.
#define STRATA_DEFINE_IACC_HANDLER(name)                                                      \
    STRATA_TC __attribute__((aligned(64))) static void strata_handler_##name(STRATA_HANDLER_PARAMETERS) { \
        (void)facc;                                                                           \
        uint64_t *frame = fp;                                                                 \
        uint64_t acc = iacc;                                                                  \
        uint64_t *next;                                                                       \
        [[clang::always_inline]] next = strata_op_##name(pc, &frame, &acc, st);               \
        if (__builtin_expect(next == 0, 0)) return;                                           \
        STRATA_DEAD_FACC(dead)                                                                \
        return ((strata_handler)(uintptr_t)(*next >> 16))(next, frame, acc, dead, st);       \
    }

/// The handler of a float accumulator operation: its operation reads and writes the
/// accumulator, which goes on to the next handler.
#define STRATA_DEFINE_FACC_HANDLER(name)                                                      \
    STRATA_TC __attribute__((aligned(64))) static void strata_handler_##name(STRATA_HANDLER_PARAMETERS) { \
        (void)iacc;                                                                           \
        uint64_t *frame = fp;                                                                 \
        double acc = facc;                                                                    \
        uint64_t *next;                                                                       \
        [[clang::always_inline]] next = strata_op_##name(pc, &frame, &acc, st);               \
        if (__builtin_expect(next == 0, 0)) return;                                           \
        STRATA_DEAD_IACC(dead_iacc)                                                           \
        return ((strata_handler)(uintptr_t)(*next >> 16))(next, frame, dead_iacc, acc, st);  \
    }

#include "StrataThreadedHandlers.inc"
#undef STRATA_DECLARE_HANDLER
#undef STRATA_DECLARE_FACC_HANDLER
#undef STRATA_DECLARE_IACC_HANDLER
#undef STRATA_DEFINE_HANDLER
#undef STRATA_DEFINE_FACC_HANDLER
#undef STRATA_DEFINE_IACC_HANDLER
#undef STRATA_PAGE_ALIGNED_HANDLER

/// Runs instructions from `pc` until an operation ends the run (a trap, or the return of the
/// activation's entry frame).
static inline void strata_threaded_run(uint64_t *pc, uint64_t *fp, void *st) {
    ((strata_handler)(uintptr_t)(*pc >> 16))(pc, fp, 0, 0.0, st);
}

/// The high bits of the first word of an instruction with opcode `op`: its handler's address
/// shifted left by 16 (the opcode is the low 16 bits), or 0 when the address does not fit in 48
/// bits (then the build cannot use threaded dispatch).
static inline uint64_t strata_threaded_handler_bits(uint16_t op) {
    uint64_t address = (uint64_t)(uintptr_t)strata_handlers[op];
    return address >> 48 ? 0 : address << 16;
}

#else

static inline void strata_threaded_run(uint64_t *pc, uint64_t *fp, void *st) { (void)pc; (void)fp; (void)st; }
static inline uint64_t strata_threaded_handler_bits(uint16_t op) { (void)op; return 0; }

#endif

#endif
