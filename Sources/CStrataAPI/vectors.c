// The vector functions of wasm.h: memory management only, the same for every element type.
// A vector's data comes from malloc; a vector of pointers owns its elements (copied with
// wasm_X_copy, deleted with wasm_X_delete); a vector of values owns their references.
#include <stdlib.h>
#include "wasm.h"

// Allocation failures leave an empty vector (size 0, data NULL): the API has no error path
// here, and an empty vector is safe to use and to delete.
#define STRATA_VEC_COMMON(name, elem) \
    void wasm_##name##_vec_new_empty(wasm_##name##_vec_t* out) { \
        out->size = 0; \
        out->data = NULL; \
    } \
    void wasm_##name##_vec_new_uninitialized(wasm_##name##_vec_t* out, size_t size) { \
        out->data = size == 0 ? NULL : (elem*)calloc(size, sizeof(elem)); \
        out->size = out->data == NULL ? 0 : size; \
    } \
    void wasm_##name##_vec_new(wasm_##name##_vec_t* out, size_t size, elem const data[]) { \
        wasm_##name##_vec_new_uninitialized(out, size); \
        if (out->size == size && size > 0) memcpy(out->data, data, size * sizeof(elem)); \
    }

// Vectors of owned pointers.
#define STRATA_VEC_OF_POINTERS(name) \
    STRATA_VEC_COMMON(name, wasm_##name##_t*) \
    void wasm_##name##_vec_copy(wasm_##name##_vec_t* out, const wasm_##name##_vec_t* v) { \
        wasm_##name##_vec_new_uninitialized(out, v->size); \
        for (size_t i = 0; i < out->size; i++) out->data[i] = v->data[i] ? wasm_##name##_copy(v->data[i]) : NULL; \
    } \
    void wasm_##name##_vec_delete(wasm_##name##_vec_t* v) { \
        for (size_t i = 0; i < v->size; i++) if (v->data[i]) wasm_##name##_delete(v->data[i]); \
        free(v->data); \
        v->size = 0; \
        v->data = NULL; \
    }

STRATA_VEC_COMMON(byte, wasm_byte_t)
void wasm_byte_vec_copy(wasm_byte_vec_t* out, const wasm_byte_vec_t* v) {
    wasm_byte_vec_new(out, v->size, v->data);
}
void wasm_byte_vec_delete(wasm_byte_vec_t* v) {
    free(v->data);
    v->size = 0;
    v->data = NULL;
}

STRATA_VEC_COMMON(val, wasm_val_t)
void wasm_val_vec_copy(wasm_val_vec_t* out, const wasm_val_vec_t* v) {
    wasm_val_vec_new_uninitialized(out, v->size);
    for (size_t i = 0; i < out->size; i++) wasm_val_copy(&out->data[i], &v->data[i]);
}
void wasm_val_vec_delete(wasm_val_vec_t* v) {
    for (size_t i = 0; i < v->size; i++) wasm_val_delete(&v->data[i]);
    free(v->data);
    v->size = 0;
    v->data = NULL;
}

STRATA_VEC_OF_POINTERS(valtype)
STRATA_VEC_OF_POINTERS(functype)
STRATA_VEC_OF_POINTERS(globaltype)
STRATA_VEC_OF_POINTERS(tabletype)
STRATA_VEC_OF_POINTERS(memorytype)
STRATA_VEC_OF_POINTERS(tagtype)
STRATA_VEC_OF_POINTERS(externtype)
STRATA_VEC_OF_POINTERS(importtype)
STRATA_VEC_OF_POINTERS(exporttype)
STRATA_VEC_OF_POINTERS(frame)
STRATA_VEC_OF_POINTERS(extern)
