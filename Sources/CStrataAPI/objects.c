// The parts of wasm.h that are the same for every object: deletion, copies (a new owner of
// the same object), identity, host info, and the casts between an object and its views
// (a function is an extern and a reference; a function type is an extern type). The objects
// themselves are Swift objects (Sources/StrataCAPI); these delegate to the generic
// operations in strata_capi_internal.h.
#include "wasm.h"
#include "strata_capi_internal.h"

// Owned objects that are neither references nor types.
#define STRATA_OWNED(name) \
    void wasm_##name##_delete(wasm_##name##_t* p) { if (p) strata_capi_release(p); }

STRATA_OWNED(config)
STRATA_OWNED(engine)
STRATA_OWNED(store)
STRATA_OWNED(shared_module)

// Types are immutable: a copy is another owner of the same object.
#define STRATA_TYPE(name) \
    STRATA_OWNED(name) \
    wasm_##name##_t* wasm_##name##_copy(const wasm_##name##_t* p) { return p ? strata_capi_retain(p) : NULL; }

STRATA_TYPE(valtype)
STRATA_TYPE(functype)
STRATA_TYPE(globaltype)
STRATA_TYPE(tabletype)
STRATA_TYPE(memorytype)
STRATA_TYPE(tagtype)
STRATA_TYPE(externtype)
STRATA_TYPE(importtype)
STRATA_TYPE(exporttype)

STRATA_OWNED(frame)
wasm_frame_t* wasm_frame_copy(const wasm_frame_t* p) { return p ? strata_capi_retain(p) : NULL; }

// A type's view as an extern type, and back when the kind matches.
#define STRATA_EXTERNTYPE_VIEW(name, kind) \
    wasm_externtype_t* wasm_##name##_as_externtype(wasm_##name##_t* p) { return (wasm_externtype_t*)p; } \
    const wasm_externtype_t* wasm_##name##_as_externtype_const(const wasm_##name##_t* p) { return (const wasm_externtype_t*)p; } \
    wasm_##name##_t* wasm_externtype_as_##name(wasm_externtype_t* p) { \
        return p && wasm_externtype_kind(p) == kind ? (wasm_##name##_t*)p : NULL; \
    } \
    const wasm_##name##_t* wasm_externtype_as_##name##_const(const wasm_externtype_t* p) { \
        return p && wasm_externtype_kind(p) == kind ? (const wasm_##name##_t*)p : NULL; \
    }

STRATA_EXTERNTYPE_VIEW(functype, WASM_EXTERN_FUNC)
STRATA_EXTERNTYPE_VIEW(globaltype, WASM_EXTERN_GLOBAL)
STRATA_EXTERNTYPE_VIEW(tabletype, WASM_EXTERN_TABLE)
STRATA_EXTERNTYPE_VIEW(memorytype, WASM_EXTERN_MEMORY)
STRATA_EXTERNTYPE_VIEW(tagtype, WASM_EXTERN_TAG)

// References: owners, identity, host info.
#define STRATA_REF_BASE(name) \
    STRATA_OWNED(name) \
    wasm_##name##_t* wasm_##name##_copy(const wasm_##name##_t* p) { return p ? strata_capi_retain(p) : NULL; } \
    bool wasm_##name##_same(const wasm_##name##_t* a, const wasm_##name##_t* b) { return strata_capi_same(a, b); } \
    void* wasm_##name##_get_host_info(const wasm_##name##_t* p) { return p ? strata_capi_host_info(p) : NULL; } \
    void wasm_##name##_set_host_info(wasm_##name##_t* p, void* info) { if (p) strata_capi_set_host_info(p, info, NULL); } \
    void wasm_##name##_set_host_info_with_finalizer(wasm_##name##_t* p, void* info, void (*finalizer)(void*)) { \
        if (p) strata_capi_set_host_info(p, info, finalizer); \
    }

// A reference's view as wasm_ref_t, and back when the object is of that kind (`test`).
#define STRATA_REF(name, test) \
    STRATA_REF_BASE(name) \
    wasm_ref_t* wasm_##name##_as_ref(wasm_##name##_t* p) { return (wasm_ref_t*)p; } \
    const wasm_ref_t* wasm_##name##_as_ref_const(const wasm_##name##_t* p) { return (const wasm_ref_t*)p; } \
    wasm_##name##_t* wasm_ref_as_##name(wasm_ref_t* p) { \
        if (!p) return NULL; \
        int k = strata_capi_kind(p); \
        return (test) ? (wasm_##name##_t*)p : NULL; \
    } \
    const wasm_##name##_t* wasm_ref_as_##name##_const(const wasm_ref_t* p) { \
        if (!p) return NULL; \
        int k = strata_capi_kind(p); \
        return (test) ? (const wasm_##name##_t*)p : NULL; \
    }

STRATA_REF_BASE(ref)
STRATA_REF(trap, k == STRATA_CAPI_TRAP)
STRATA_REF(foreign, k == STRATA_CAPI_FOREIGN)
STRATA_REF(module, k == STRATA_CAPI_MODULE)
STRATA_REF(instance, k == STRATA_CAPI_INSTANCE)
STRATA_REF(func, k == STRATA_CAPI_FUNC)
STRATA_REF(global, k == STRATA_CAPI_GLOBAL)
STRATA_REF(table, k == STRATA_CAPI_TABLE)
STRATA_REF(memory, k == STRATA_CAPI_MEMORY)
STRATA_REF(extern, k <= STRATA_CAPI_TAG)

// Functions, globals, tables and memories are externs (the same object), and back.
#define STRATA_EXTERN_VIEW(name, kind) \
    wasm_extern_t* wasm_##name##_as_extern(wasm_##name##_t* p) { return (wasm_extern_t*)p; } \
    const wasm_extern_t* wasm_##name##_as_extern_const(const wasm_##name##_t* p) { return (const wasm_extern_t*)p; } \
    wasm_##name##_t* wasm_extern_as_##name(wasm_extern_t* p) { \
        return p && wasm_extern_kind(p) == kind ? (wasm_##name##_t*)p : NULL; \
    } \
    const wasm_##name##_t* wasm_extern_as_##name##_const(const wasm_extern_t* p) { \
        return p && wasm_extern_kind(p) == kind ? (const wasm_##name##_t*)p : NULL; \
    }

STRATA_EXTERN_VIEW(func, WASM_EXTERN_FUNC)
STRATA_EXTERN_VIEW(global, WASM_EXTERN_GLOBAL)
STRATA_EXTERN_VIEW(table, WASM_EXTERN_TABLE)
STRATA_EXTERN_VIEW(memory, WASM_EXTERN_MEMORY)
