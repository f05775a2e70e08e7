// Tests of Strata's wasm.h, as a C program written against the standard API sees it.
// Usage: capi_test MAIN.wasm START_TRAP.wasm. Prints one line per check that fails and exits
// with 1 if any did; built and run by Tests/capi/run.sh (also under AddressSanitizer).
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasm.h"

static int failures = 0;
static wasm_engine_t* main_engine;  // the engine of main's store
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

static wasm_byte_vec_t read_file(const char* path) {
    wasm_byte_vec_t v = WASM_EMPTY_VEC;
    FILE* f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    wasm_byte_vec_new_uninitialized(&v, (size_t)n);
    if (fread(v.data, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(f);
    return v;
}

// The message of a trap, deleting the trap.
static char* take_message(wasm_trap_t* trap) {
    wasm_message_t m;
    wasm_trap_message(trap, &m);
    char* s = strndup(m.data, m.size);
    wasm_byte_vec_delete(&m);
    wasm_trap_delete(trap);
    return s;
}

// MARK: the host function the module imports

static int hello_calls = 0;
static int env_finalized = 0;

static wasm_trap_t* hello(void* env, const wasm_val_vec_t* args, wasm_val_vec_t* results) {
    hello_calls++;
    CHECK(env == (void*)&hello_calls);
    CHECK(args->size == 4 && results->size == 2);
    CHECK(args->data[0].kind == WASM_I32 && args->data[1].kind == WASM_I64);
    CHECK(args->data[2].kind == WASM_F32 && args->data[3].kind == WASM_F64);
    if (args->data[0].of.i32 == 13) {
        wasm_message_t m;
        wasm_name_new_from_string_nt(&m, "thirteen is unlucky");
        wasm_trap_t* t = wasm_trap_new(NULL, &m);
        wasm_byte_vec_delete(&m);
        return t;
    }
    results->data[0].kind = WASM_I32;
    results->data[0].of.i32 = args->data[0].of.i32 * 2;
    results->data[1].kind = WASM_I64;
    results->data[1].of.i64 = args->data[1].of.i64 + (int64_t)(args->data[2].of.f32 * 4) + (int64_t)(args->data[3].of.f64 * 8);
    return NULL;
}

static void finalize_env(void* env) {
    CHECK(env == (void*)&hello_calls);
    env_finalized++;
}

// Everything the module imports, in its order: hello, g_const, g_mut.
typedef struct {
    wasm_func_t* hello;
    wasm_global_t* g_const;
    wasm_global_t* g_mut;
} imports_t;

static imports_t make_imports(wasm_store_t* store) {
    imports_t im;
    wasm_valtype_t* ps[4] = {wasm_valtype_new_i32(), wasm_valtype_new_i64(), wasm_valtype_new_f32(), wasm_valtype_new_f64()};
    wasm_valtype_t* rs[2] = {wasm_valtype_new_i32(), wasm_valtype_new_i64()};
    wasm_valtype_vec_t params, results;
    wasm_valtype_vec_new(&params, 4, ps);
    wasm_valtype_vec_new(&results, 2, rs);
    wasm_functype_t* type = wasm_functype_new(&params, &results);
    im.hello = wasm_func_new_with_env(store, type, hello, &hello_calls, finalize_env);
    wasm_functype_delete(type);

    wasm_globaltype_t* ct = wasm_globaltype_new(wasm_valtype_new_i32(), WASM_CONST);
    wasm_val_t seven = WASM_I32_VAL(7);
    im.g_const = wasm_global_new(store, ct, &seven);
    wasm_globaltype_delete(ct);
    wasm_globaltype_t* mt = wasm_globaltype_new(wasm_valtype_new_i64(), WASM_VAR);
    wasm_val_t hundred = WASM_I64_VAL(100);
    im.g_mut = wasm_global_new(store, mt, &hundred);
    wasm_globaltype_delete(mt);
    return im;
}

static void delete_imports(imports_t im) {
    wasm_func_delete(im.hello);
    wasm_global_delete(im.g_const);
    wasm_global_delete(im.g_mut);
}

static wasm_instance_t* instantiate(wasm_store_t* store, wasm_module_t* module, imports_t im) {
    wasm_extern_t* list[3] = {wasm_func_as_extern(im.hello), wasm_global_as_extern(im.g_const), wasm_global_as_extern(im.g_mut)};
    wasm_extern_vec_t imports = WASM_ARRAY_VEC(list);
    wasm_trap_t* trap = NULL;
    wasm_instance_t* instance = wasm_instance_new(store, module, &imports, &trap);
    CHECK(instance != NULL && trap == NULL);
    if (trap) fprintf(stderr, "instantiation: %s\n", take_message(trap));
    return instance;
}

// The export named `name` (a new owner), or NULL.
static wasm_extern_t* export_named(wasm_module_t* module, wasm_instance_t* instance, const char* name) {
    wasm_exporttype_vec_t types;
    wasm_extern_vec_t exports;
    wasm_module_exports(module, &types);
    wasm_instance_exports(instance, &exports);
    wasm_extern_t* found = NULL;
    for (size_t i = 0; i < types.size && i < exports.size; i++) {
        const wasm_name_t* n = wasm_exporttype_name(types.data[i]);
        if (n->size == strlen(name) && memcmp(n->data, name, n->size) == 0) found = wasm_extern_copy(exports.data[i]);
    }
    wasm_exporttype_vec_delete(&types);
    wasm_extern_vec_delete(&exports);
    return found;
}

static wasm_trap_t* call(wasm_func_t* f, wasm_val_t* args, size_t nargs, wasm_val_t* results, size_t nresults) {
    wasm_val_vec_t a = {nargs, args}, r = {nresults, results};
    return wasm_func_call(f, &a, &r);
}

// MARK: tests

static void test_calls_and_globals(wasm_store_t* store, wasm_module_t* module, wasm_instance_t* instance, imports_t im) {
    wasm_extern_t* run = export_named(module, instance, "run");
    CHECK(run && wasm_extern_kind(run) == WASM_EXTERN_FUNC);
    wasm_func_t* f = wasm_extern_as_func(run);
    CHECK(wasm_func_param_arity(f) == 1 && wasm_func_result_arity(f) == 2);
    wasm_val_t args[1] = {WASM_I32_VAL(21)};
    wasm_val_t results[2] = {WASM_INIT_VAL, WASM_INIT_VAL};
    wasm_trap_t* trap = call(f, args, 1, results, 2);
    CHECK(trap == NULL);
    // hello(21, 2^32, 2.5, -0.25) = (42, 2^32 + 10 - 2); then + g_const 7 and + g_mut 101.
    CHECK(results[0].kind == WASM_I32 && results[0].of.i32 == 49);
    CHECK(results[1].kind == WASM_I64 && results[1].of.i64 == 0x100000000LL + 8 + 101);
    CHECK(hello_calls == 1);
    wasm_val_t g;
    wasm_global_get(im.g_mut, &g);
    CHECK(g.kind == WASM_I64 && g.of.i64 == 101);

    // A trap from the host callback, with its message.
    args[0].of.i32 = 13;
    trap = call(f, args, 1, results, 2);
    CHECK(trap != NULL);
    if (trap) {
        char* m = take_message(trap);
        CHECK(strcmp(m, "thirteen is unlucky") == 0);
        free(m);
    }
    // Wrong argument count and kinds: a trap, not a crash.
    trap = call(f, NULL, 0, results, 2);
    CHECK(trap != NULL);
    if (trap) wasm_trap_delete(trap);
    wasm_val_t wrong[1] = {WASM_F64_VAL(1.0)};
    trap = call(f, wrong, 1, results, 2);
    CHECK(trap != NULL);
    if (trap) wasm_trap_delete(trap);
    wasm_extern_delete(run);

    // Exported globals: mutable and immutable.
    wasm_extern_t* ge = export_named(module, instance, "g_exp");
    wasm_global_t* gexp = wasm_extern_as_global(ge);
    CHECK(gexp != NULL && wasm_extern_as_func(ge) == NULL);
    wasm_globaltype_t* gt = wasm_global_type(gexp);
    CHECK(wasm_globaltype_mutability(gt) == WASM_VAR && wasm_valtype_kind(wasm_globaltype_content(gt)) == WASM_F64);
    wasm_globaltype_delete(gt);
    wasm_global_get(gexp, &g);
    CHECK(g.kind == WASM_F64 && g.of.f64 == 1.5);
    wasm_val_t v = WASM_F64_VAL(-3.0);
    wasm_global_set(gexp, &v);
    wasm_global_get(gexp, &g);
    CHECK(g.of.f64 == -3.0);
    wasm_extern_delete(ge);
    wasm_extern_t* gi = export_named(module, instance, "g_imm");
    wasm_global_get(wasm_extern_as_global(gi), &g);
    CHECK(g.kind == WASM_I32 && g.of.i32 == 42);
    wasm_extern_delete(gi);
    (void)store;
}

static void test_multi_value(wasm_module_t* module, wasm_instance_t* instance) {
    wasm_extern_t* e = export_named(module, instance, "swap");
    wasm_val_t args[2] = {WASM_I32_VAL(-5), WASM_I64_VAL(1LL << 40)};
    wasm_val_t results[2];
    CHECK(call(wasm_extern_as_func(e), args, 2, results, 2) == NULL);
    CHECK(results[0].kind == WASM_I64 && results[0].of.i64 == (1LL << 40));
    CHECK(results[1].kind == WASM_I32 && results[1].of.i32 == -5);
    wasm_extern_delete(e);
}

static void test_memory(wasm_module_t* module, wasm_instance_t* instance) {
    wasm_extern_t* me = export_named(module, instance, "mem");
    wasm_memory_t* mem = wasm_extern_as_memory(me);
    CHECK(mem != NULL);
    CHECK(wasm_memory_size(mem) == 1 && wasm_memory_data_size(mem) == 65536);
    CHECK(memcmp(wasm_memory_data(mem) + 16, "strata", 6) == 0);
    // Written by the host, read by Wasm; written by Wasm, read by the host.
    memcpy(wasm_memory_data(mem) + 100, "\x04\x03\x02\x01", 4);
    wasm_extern_t* load = export_named(module, instance, "load");
    wasm_extern_t* store = export_named(module, instance, "store");
    wasm_val_t a1[1] = {WASM_I32_VAL(100)}, r[1];
    CHECK(call(wasm_extern_as_func(load), a1, 1, r, 1) == NULL && r[0].of.i32 == 0x01020304);
    wasm_val_t a2[2] = {WASM_I32_VAL(200), WASM_I32_VAL(0x0A0B0C0D)};
    CHECK(call(wasm_extern_as_func(store), a2, 2, NULL, 0) == NULL);
    CHECK(wasm_memory_data(mem)[200] == 0x0D && wasm_memory_data(mem)[203] == 0x0A);
    // Out of bounds: a trap.
    a1[0].of.i32 = 65534;
    wasm_trap_t* trap = call(wasm_extern_as_func(load), a1, 1, r, 1);
    CHECK(trap != NULL);
    if (trap) {
        char* m = take_message(trap);
        CHECK(strstr(m, "out of bounds memory access") != NULL);
        free(m);
    }
    // Grow from the host, then the new page is usable from Wasm; past the maximum fails.
    CHECK(wasm_memory_grow(mem, 2));
    CHECK(wasm_memory_size(mem) == 3 && wasm_memory_data_size(mem) == 3 * 65536);
    CHECK(!wasm_memory_grow(mem, 2));
    a1[0].of.i32 = 65534;
    CHECK(call(wasm_extern_as_func(load), a1, 1, r, 1) == NULL);
    wasm_memorytype_t* mt = wasm_memory_type(mem);
    CHECK(wasm_memorytype_limits(mt)->min == 1 && wasm_memorytype_limits(mt)->max == 4);
    wasm_memorytype_delete(mt);
    wasm_extern_delete(load);
    wasm_extern_delete(store);
    wasm_extern_delete(me);
}

static void test_tables(wasm_module_t* module, wasm_instance_t* instance) {
    wasm_extern_t* te = export_named(module, instance, "tab");
    wasm_table_t* tab = wasm_extern_as_table(te);
    CHECK(tab != NULL && wasm_table_size(tab) == 2);
    wasm_extern_t* ce = export_named(module, instance, "call_at");
    wasm_func_t* call_at = wasm_extern_as_func(ce);
    wasm_val_t args[3] = {WASM_I32_VAL(0), WASM_I32_VAL(7), WASM_I32_VAL(3)}, r[1];
    CHECK(call(call_at, args, 3, r, 1) == NULL && r[0].of.i32 == 10);
    // Element 1 (sub) moved to element 0 by the host: call_indirect sees it.
    wasm_ref_t* sub = wasm_table_get(tab, 1);
    CHECK(sub != NULL);
    CHECK(wasm_table_set(tab, 0, sub));
    CHECK(call(call_at, args, 3, r, 1) == NULL && r[0].of.i32 == 4);
    // Grow with an initial function, then call through the new slot; out of range fails.
    CHECK(wasm_table_grow(tab, 2, sub));
    CHECK(wasm_table_size(tab) == 4);
    args[0].of.i32 = 3;
    CHECK(call(call_at, args, 3, r, 1) == NULL && r[0].of.i32 == 4);
    CHECK(!wasm_table_grow(tab, 1, NULL));
    CHECK(!wasm_table_set(tab, 10, sub));
    CHECK(wasm_table_get(tab, 10) == NULL);
    // A null element: call_indirect traps.
    CHECK(wasm_table_set(tab, 2, NULL));
    args[0].of.i32 = 2;
    wasm_trap_t* trap = call(call_at, args, 3, r, 1);
    CHECK(trap != NULL);
    if (trap) wasm_trap_delete(trap);
    wasm_ref_delete(sub);
    wasm_extern_delete(ce);
    wasm_extern_delete(te);
}

static void test_traps_with_frames(wasm_module_t* module, wasm_instance_t* instance) {
    wasm_extern_t* e = export_named(module, instance, "div");
    wasm_val_t args[2] = {WASM_I32_VAL(1), WASM_I32_VAL(0)}, r[1];
    wasm_trap_t* trap = call(wasm_extern_as_func(e), args, 2, r, 1);
    CHECK(trap != NULL);
    if (trap) {
        wasm_frame_vec_t trace;
        wasm_trap_trace(trap, &trace);
        // $inner (function 9: the import, then add, sub, run, swap, load, store, grow,
        // call_at, $inner) called by div (10).
        CHECK(trace.size == 2);
        if (trace.size == 2) {
            CHECK(wasm_frame_func_index(trace.data[0]) == 9 && wasm_frame_func_index(trace.data[1]) == 10);
            // i32.div_s after the size byte, the locals byte and two local.gets: offset 6; the
            // caller's call after the same prefix: 6 too.
            CHECK(wasm_frame_func_offset(trace.data[0]) == 6 && wasm_frame_func_offset(trace.data[1]) == 6);
            CHECK(wasm_frame_module_offset(trace.data[0]) > wasm_frame_func_offset(trace.data[0]));
        }
        wasm_frame_t* origin = wasm_trap_origin(trap);
        CHECK(origin && wasm_frame_func_index(origin) == 9);
        if (origin) wasm_frame_delete(origin);
        wasm_frame_vec_delete(&trace);
        char* m = take_message(trap);
        CHECK(strcmp(m, "integer divide by zero") == 0);
        free(m);
    }
    wasm_extern_delete(e);
}

static void test_start_trap(wasm_store_t* store, const char* path) {
    wasm_byte_vec_t bytes = read_file(path);
    wasm_module_t* module = wasm_module_new(store, &bytes);
    wasm_byte_vec_delete(&bytes);
    CHECK(module != NULL);
    wasm_extern_vec_t none = WASM_EMPTY_VEC;
    wasm_trap_t* trap = NULL;
    wasm_instance_t* instance = wasm_instance_new(store, module, &none, &trap);
    CHECK(instance == NULL && trap != NULL);
    if (trap) {
        wasm_frame_vec_t trace;
        wasm_trap_trace(trap, &trace);
        CHECK(trace.size == 2 && trace.size > 0 && wasm_frame_func_index(trace.data[0]) == 1);
        wasm_frame_vec_delete(&trace);
        char* m = take_message(trap);
        CHECK(strcmp(m, "unreachable") == 0);
        free(m);
    }
    wasm_module_delete(module);
}

static void test_reflection(wasm_module_t* module) {
    wasm_importtype_vec_t imports;
    wasm_module_imports(module, &imports);
    CHECK(imports.size == 3);
    if (imports.size == 3) {
        const wasm_name_t* m = wasm_importtype_module(imports.data[0]);
        const wasm_name_t* n = wasm_importtype_name(imports.data[0]);
        CHECK(m->size == 4 && memcmp(m->data, "host", 4) == 0 && n->size == 5 && memcmp(n->data, "hello", 5) == 0);
        const wasm_functype_t* ft = wasm_externtype_as_functype_const(wasm_importtype_type(imports.data[0]));
        CHECK(ft && wasm_functype_params(ft)->size == 4 && wasm_functype_results(ft)->size == 2);
        if (ft) CHECK(wasm_valtype_kind(wasm_functype_params(ft)->data[3]) == WASM_F64);
        CHECK(wasm_externtype_kind(wasm_importtype_type(imports.data[2])) == WASM_EXTERN_GLOBAL);
        const wasm_globaltype_t* gt = wasm_externtype_as_globaltype_const(wasm_importtype_type(imports.data[2]));
        CHECK(gt && wasm_globaltype_mutability(gt) == WASM_VAR);
    }
    wasm_importtype_vec_t copy;
    wasm_importtype_vec_copy(&copy, &imports);
    CHECK(copy.size == imports.size);
    wasm_importtype_vec_delete(&copy);
    wasm_importtype_vec_delete(&imports);

    wasm_exporttype_vec_t exports;
    wasm_module_exports(module, &exports);
    int kinds[5] = {0};
    for (size_t i = 0; i < exports.size; i++) kinds[wasm_externtype_kind(wasm_exporttype_type(exports.data[i]))]++;
    CHECK(kinds[WASM_EXTERN_FUNC] == 10 && kinds[WASM_EXTERN_MEMORY] == 1 && kinds[WASM_EXTERN_GLOBAL] == 2 && kinds[WASM_EXTERN_TABLE] == 1);
    for (size_t i = 0; i < exports.size; i++) {
        const wasm_name_t* n = wasm_exporttype_name(exports.data[i]);
        if (n->size == 3 && memcmp(n->data, "tab", 3) == 0) {
            const wasm_tabletype_t* tt = wasm_externtype_as_tabletype_const(wasm_exporttype_type(exports.data[i]));
            CHECK(tt && wasm_tabletype_limits(tt)->min == 2 && wasm_tabletype_limits(tt)->max == 4);
            CHECK(tt && wasm_valtype_kind(wasm_tabletype_element(tt)) == WASM_FUNCREF);
        }
    }
    wasm_exporttype_vec_delete(&exports);
}

static int foreign_finalized = 0;
static void finalize_foreign(void* info) {
    CHECK(info == (void*)&foreign_finalized);
    foreign_finalized++;
}

static void test_host_references(wasm_store_t* store, wasm_module_t* module, wasm_instance_t* instance) {
    wasm_foreign_t* foreign = wasm_foreign_new(store);
    wasm_foreign_set_host_info_with_finalizer(foreign, &foreign_finalized, finalize_foreign);
    CHECK(wasm_foreign_get_host_info(foreign) == &foreign_finalized);
    wasm_extern_t* e = export_named(module, instance, "id_ref");
    wasm_val_t args[1] = {WASM_REF_VAL(wasm_foreign_as_ref(foreign))}, r[1];
    CHECK(call(wasm_extern_as_func(e), args, 1, r, 1) == NULL);
    CHECK(r[0].kind == WASM_EXTERNREF && r[0].of.ref != NULL);
    if (r[0].of.ref) {
        wasm_foreign_t* back = wasm_ref_as_foreign(r[0].of.ref);
        CHECK(back != NULL && wasm_foreign_same(back, foreign));
        CHECK(wasm_ref_get_host_info(r[0].of.ref) == &foreign_finalized);
        CHECK(wasm_ref_as_func(r[0].of.ref) == NULL);
    }
    wasm_val_delete(&r[0]);
    wasm_extern_t* isnull = export_named(module, instance, "is_null");
    wasm_val_t null_arg[1] = {WASM_REF_VAL(NULL)};
    CHECK(call(wasm_extern_as_func(isnull), null_arg, 1, r, 1) == NULL && r[0].of.i32 == 1);
    CHECK(call(wasm_extern_as_func(isnull), args, 1, r, 1) == NULL && r[0].of.i32 == 0);
    wasm_extern_delete(isnull);
    wasm_extern_delete(e);
    wasm_foreign_delete(foreign);
}

static void test_serialize(wasm_store_t* store, wasm_module_t* module) {
    wasm_byte_vec_t bytes;
    wasm_module_serialize(module, &bytes);
    CHECK(bytes.size > 0);
    wasm_module_t* again = wasm_module_deserialize(store, &bytes);
    CHECK(again != NULL);
    wasm_byte_vec_delete(&bytes);
    if (!again) return;
    imports_t im = make_imports(store);
    wasm_instance_t* instance = instantiate(store, again, im);
    wasm_extern_t* e = export_named(again, instance, "swap");
    wasm_val_t args[2] = {WASM_I32_VAL(1), WASM_I64_VAL(2)}, r[2];
    CHECK(call(wasm_extern_as_func(e), args, 2, r, 2) == NULL && r[0].of.i64 == 2 && r[1].of.i32 == 1);
    wasm_extern_delete(e);
    wasm_instance_delete(instance);
    delete_imports(im);
    wasm_module_delete(again);
    // Not a serialized module: NULL.
    wasm_byte_vec_t junk;
    wasm_name_new_from_string(&junk, "not a module");
    CHECK(wasm_module_deserialize(store, &junk) == NULL);
    wasm_byte_vec_delete(&junk);
}

static void test_bad_inputs(wasm_store_t* store, wasm_module_t* module, wasm_instance_t* instance) {
    wasm_byte_vec_t junk;
    wasm_name_new_from_string(&junk, "\0asm\x02\0\0\0");
    CHECK(wasm_module_new(store, &junk) == NULL);
    CHECK(!wasm_module_validate(store, &junk));
    wasm_byte_vec_delete(&junk);
    // Missing imports: no instance, a trap that says why.
    wasm_extern_vec_t none = WASM_EMPTY_VEC;
    wasm_trap_t* trap = NULL;
    CHECK(wasm_instance_new(store, module, &none, &trap) == NULL && trap != NULL);
    if (trap) wasm_trap_delete(trap);
    // Imports from another store: refused with a trap that says so.
    wasm_store_t* other = wasm_store_new(main_engine);
    imports_t im = make_imports(other);
    wasm_extern_t* list[3] = {wasm_func_as_extern(im.hello), wasm_global_as_extern(im.g_const), wasm_global_as_extern(im.g_mut)};
    wasm_extern_vec_t imports = WASM_ARRAY_VEC(list);
    CHECK(wasm_instance_new(store, module, &imports, &trap) == NULL && trap != NULL);
    if (trap) {
        char* m = take_message(trap);
        CHECK(strstr(m, "another store") != NULL);
        free(m);
    }
    // A function of another store as a table element or an argument: refused.
    wasm_extern_t* te = export_named(module, instance, "tab");
    CHECK(!wasm_table_set(wasm_extern_as_table(te), 0, wasm_func_as_ref(im.hello)));
    wasm_extern_delete(te);
    delete_imports(im);
    wasm_store_delete(other);
}

// Threads: one engine and module, a store per thread.
typedef struct {
    wasm_engine_t* engine;
    wasm_shared_module_t* shared;
    int64_t result;
} thread_arg_t;

static void* thread_main(void* p) {
    thread_arg_t* a = p;
    wasm_store_t* store = wasm_store_new(a->engine);
    wasm_module_t* module = wasm_module_obtain(store, a->shared);
    if (!module) return NULL;
    imports_t im = make_imports(store);
    wasm_instance_t* instance = instantiate(store, module, im);
    wasm_extern_t* e = export_named(module, instance, "sum");
    wasm_val_t args[1] = {WASM_I32_VAL(100000)}, r[1];
    if (call(wasm_extern_as_func(e), args, 1, r, 1) == NULL) a->result = r[0].of.i64;
    wasm_extern_delete(e);
    wasm_instance_delete(instance);
    delete_imports(im);
    wasm_module_delete(module);
    wasm_store_delete(store);
    return NULL;
}

static void test_threads(wasm_engine_t* engine, wasm_module_t* module) {
    enum { N = 4 };
    pthread_t threads[N];
    thread_arg_t args[N];
    wasm_shared_module_t* shared = wasm_module_share(module);
    for (int i = 0; i < N; i++) {
        args[i] = (thread_arg_t){engine, shared, -1};
        pthread_create(&threads[i], NULL, thread_main, &args[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        CHECK(args[i].result == 100000LL * 100001 / 2);
    }
    wasm_shared_module_delete(shared);
}

// Creating and dropping everything many times: the sanitizer run finds what leaks.
static void test_create_destroy(const wasm_byte_vec_t* bytes) {
    for (int i = 0; i < 20; i++) {
        wasm_engine_t* engine = wasm_engine_new_with_config(wasm_config_new());
        wasm_store_t* store = wasm_store_new(engine);
        wasm_module_t* module = wasm_module_new(store, bytes);
        imports_t im = make_imports(store);
        wasm_instance_t* instance = instantiate(store, module, im);
        wasm_instance_delete(instance);
        delete_imports(im);
        wasm_module_delete(module);
        wasm_store_delete(store);
        wasm_engine_delete(engine);
    }
}

int main(int argc, char** argv) {
    if (argc != 3) { fprintf(stderr, "usage: capi_test MAIN.wasm START_TRAP.wasm\n"); return 2; }
    wasm_byte_vec_t bytes = read_file(argv[1]);
    wasm_engine_t* engine = wasm_engine_new();
    main_engine = engine;
    wasm_store_t* store = wasm_store_new(engine);
    CHECK(wasm_module_validate(store, &bytes));
    wasm_module_t* module = wasm_module_new(store, &bytes);
    CHECK(module != NULL);
    if (!module) return 1;
    imports_t im = make_imports(store);
    wasm_instance_t* instance = instantiate(store, module, im);
    if (!instance) return 1;

    test_calls_and_globals(store, module, instance, im);
    test_multi_value(module, instance);
    test_memory(module, instance);
    test_tables(module, instance);
    test_traps_with_frames(module, instance);
    test_start_trap(store, argv[2]);
    test_reflection(module);
    test_host_references(store, module, instance);
    test_serialize(store, module);
    test_bad_inputs(store, module, instance);
    test_threads(engine, module);

    int envs_before = env_finalized;
    wasm_instance_delete(instance);
    delete_imports(im);
    wasm_module_delete(module);
    wasm_store_delete(store);
    // Host functions live as long as their store: each environment finalized once, with it.
    CHECK(env_finalized > envs_before);
    CHECK(foreign_finalized == 1);
    test_create_destroy(&bytes);
    wasm_engine_delete(engine);
    wasm_byte_vec_delete(&bytes);
    // One environment per make_imports: main, serialize, another store, 4 threads, 20 rounds.
    CHECK(env_finalized == 1 + 1 + 1 + 4 + 20);
    if (failures) { fprintf(stderr, "%d checks failed\n", failures); return 1; }
    printf("capi_test: all checks passed\n");
    return 0;
}
