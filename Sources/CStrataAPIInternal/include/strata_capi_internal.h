// What the C part of Strata's C API (vectors.c, objects.c) calls in its Swift part
// (Sources/StrataCAPI): the generic object operations every wasm.h object shares. Not a
// public header: programs include wasm.h.
#ifndef STRATA_CAPI_INTERNAL_H
#define STRATA_CAPI_INTERNAL_H
#include <stdbool.h>

// An object's kind, for the checked casts (wasm_ref_as_func, wasm_extern_as_memory, ...).
enum strata_capi_kind {
    STRATA_CAPI_FUNC = 0,     // the extern kinds first, as wasm_externkind_t numbers them
    STRATA_CAPI_GLOBAL = 1,
    STRATA_CAPI_TABLE = 2,
    STRATA_CAPI_MEMORY = 3,
    STRATA_CAPI_TAG = 4,
    STRATA_CAPI_TRAP = 16,
    STRATA_CAPI_FOREIGN,
    STRATA_CAPI_MODULE,
    STRATA_CAPI_INSTANCE,
    STRATA_CAPI_OTHER,
};

void strata_capi_release(const void* object);
void* strata_capi_retain(const void* object);
bool strata_capi_same(const void* a, const void* b);
void* strata_capi_host_info(const void* object);
void strata_capi_set_host_info(void* object, void* info, void (*finalizer)(void*));
int strata_capi_kind(const void* object);

#endif
