// The interpreter's direct-threading glue: one C handler per instruction, each running the
// instruction's Swift operation and tail-calling the next handler (see CStrata.h).
#include "CStrata.h"

#define STRATA_DECLARE_OP(name, kind) \
    __attribute__((swiftcall)) StrataNext strata_op_##name(uint64_t *pc, uint64_t *fp, void *state);
STRATA_INTERPRETER_OPS(STRATA_DECLARE_OP)
#undef STRATA_DECLARE_OP

#if defined(__has_attribute) && __has_attribute(musttail) && !defined(STRATA_NO_MUSTTAIL)

// Direct threading: each handler tail-calls the next one.
#define STRATA_DEFINE_HANDLER(name, kind)                                       \
    void strata_h_##name(uint64_t *pc, uint64_t *fp, void *state) {             \
        StrataNext next = strata_op_##name(pc, fp, state);                      \
        if (next.pc == 0) return;                                               \
        __attribute__((musttail)) return ((strata_handler)(*next.pc))(next.pc, next.fp, next.state); \
    }
STRATA_INTERPRETER_OPS(STRATA_DEFINE_HANDLER)
#undef STRATA_DEFINE_HANDLER

void strata_run(uint64_t *pc, uint64_t *fp, void *state) {
    ((strata_handler)(*pc))(pc, fp, state);
}

#else

// Fallback for compilers without guaranteed tail calls: each handler hands its successor
// back to a loop. Same code stream, same operations; slower dispatch.
static _Thread_local StrataNext strata_pending;

#define STRATA_DEFINE_HANDLER(name, kind)                                       \
    void strata_h_##name(uint64_t *pc, uint64_t *fp, void *state) {             \
        strata_pending = strata_op_##name(pc, fp, state);                       \
    }
STRATA_INTERPRETER_OPS(STRATA_DEFINE_HANDLER)
#undef STRATA_DEFINE_HANDLER

void strata_run(uint64_t *pc, uint64_t *fp, void *state) {
    StrataNext next = { pc, fp, state };
    while (next.pc != 0) {
        ((strata_handler)(*next.pc))(next.pc, next.fp, next.state);
        next = strata_pending;
    }
}

#endif

#define STRATA_NAME_ENTRY(name, kind) { #name, strata_h_##name },
static const StrataHandlerName names[] = { STRATA_INTERPRETER_OPS(STRATA_NAME_ENTRY) };
#undef STRATA_NAME_ENTRY

const StrataHandlerName *strata_handler_names(int *count) {
    *count = (int)(sizeof(names) / sizeof(names[0]));
    return names;
}
