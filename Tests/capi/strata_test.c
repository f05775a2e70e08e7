// Tests of strata.h from C: settings, the tier log, text to binary, the linker, interruption
// and WASI. Built and run by Tests/capi/run.sh (also under AddressSanitizer).
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "strata.h"

static int failures = 0;
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

static char* error_text(strata_error_t* e) {
    wasm_name_t m;
    strata_error_message(e, &m);
    char* s = strdup(m.data);
    wasm_byte_vec_delete(&m);
    strata_error_delete(e);
    return s;
}

static wasm_module_t* compile(wasm_store_t* store, const char* wat) {
    wasm_byte_vec_t bytes;
    strata_error_t* e = strata_wat2wasm(wat, strlen(wat), &bytes);
    CHECK(e == NULL);
    if (e) { fprintf(stderr, "%s\n", error_text(e)); return NULL; }
    wasm_module_t* m = wasm_module_new(store, &bytes);
    wasm_byte_vec_delete(&bytes);
    return m;
}

static atomic_int tier_events = 0;
static int log_finalized = 0;
static void tier_log(void* env, const char* event) {
    (void)env;
    if (event && strlen(event) > 0) atomic_fetch_add(&tier_events, 1);
}
static void finalize_log(void* env) {
    CHECK(env == &log_finalized);
    log_finalized++;
}

static wasm_trap_t* double_it(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
    results->data[0].kind = WASM_I32;
    results->data[0].of.i32 = args->data[0].of.i32 * 2;
    return NULL;
}

static void test_settings_and_linker(const char* cache_dir) {
    wasm_config_t* config = wasm_config_new();
    strata_config_tier_set(config, STRATA_TIER_TIERED);
    strata_config_tier_up_threshold_set(config, 1);
    strata_config_optimize_threshold_set(config, 1);
    strata_config_compile_threads_set(config, 1);
    strata_config_tier_log_set(config, tier_log, &log_finalized, finalize_log);
    CHECK(strata_config_cache_dir_set(config, cache_dir) == NULL);
    strata_error_t* bad = strata_config_cache_dir_set(config, "/proc/no/such/folder");
    CHECK(bad != NULL);
    if (bad) free(error_text(bad));
    wasm_engine_t* engine = wasm_engine_new_with_config(config);
    wasm_store_t* store = wasm_store_new(engine);

    // Text errors are errors with a message.
    wasm_byte_vec_t junk;
    strata_error_t* e = strata_wat2wasm("(module (func (", 15, &junk);
    CHECK(e != NULL && junk.size == 0);
    if (e) {
        char* m = error_text(e);
        CHECK(strlen(m) > 0);
        free(m);
    }

    wasm_module_t* lib = compile(store, "(module (func (export \"triple\") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))");
    wasm_module_t* app = compile(store,
        "(module (import \"host\" \"double\" (func $d (param i32) (result i32)))"
        "  (import \"lib\" \"triple\" (func $t (param i32) (result i32)))"
        "  (func (export \"run\") (param i32) (result i32) (local $i i32) (local $s i32)"
        "    (loop $l (local.set $s (i32.add (local.get $s) (call $t (call $d (local.get 0)))))"
        "      (local.set $i (i32.add (local.get $i) (i32.const 1)))"
        "      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))"
        "    (local.get $s)))");
    CHECK(lib && app);
    strata_linker_t* linker = strata_linker_new(store);
    wasm_instance_t* lib_instance = NULL;
    wasm_trap_t* trap = NULL;
    CHECK(strata_linker_instantiate(linker, lib, &lib_instance, &trap) == NULL && lib_instance && !trap);
    CHECK(strata_linker_define_instance(linker, "lib", 3, lib_instance) == NULL);
    // Without "host" "double": an error naming it.
    wasm_instance_t* instance = NULL;
    e = strata_linker_instantiate(linker, app, &instance, &trap);
    CHECK(e != NULL && instance == NULL);
    if (e) {
        char* m = error_text(e);
        CHECK(strstr(m, "double") != NULL);
        free(m);
    }
    wasm_functype_t* type = wasm_functype_new_1_1(wasm_valtype_new_i32(), wasm_valtype_new_i32());
    wasm_func_t* dbl = wasm_func_new(store, type, double_it);
    CHECK(strata_linker_define(linker, "host", 4, "double", 6, wasm_func_as_extern(dbl)) == NULL);
    CHECK(strata_linker_instantiate(linker, app, &instance, &trap) == NULL && instance != NULL);
    wasm_extern_vec_t exports;
    wasm_instance_exports(instance, &exports);
    wasm_val_t args[1] = {WASM_I32_VAL(5)}, r[1];
    wasm_val_vec_t a = WASM_ARRAY_VEC(args), rv = WASM_ARRAY_VEC(r);
    // Called repeatedly: with thresholds of 1 the functions tier up meanwhile (the tier log).
    for (int k = 0; k < 200; k++) {
        trap = wasm_func_call(wasm_extern_as_func(exports.data[0]), &a, &rv);
        CHECK(trap == NULL && r[0].of.i32 == 30000);
        if (trap) wasm_trap_delete(trap);
    }
    CHECK(atomic_load(&tier_events) > 0);
    wasm_extern_vec_delete(&exports);
    wasm_instance_delete(instance);
    wasm_instance_delete(lib_instance);
    wasm_func_delete(dbl);
    wasm_functype_delete(type);
    strata_linker_delete(linker);
    wasm_module_delete(app);
    wasm_module_delete(lib);
    wasm_store_delete(store);
    wasm_engine_delete(engine);
    CHECK(log_finalized == 1);
}

typedef struct {
    strata_interrupt_handle_t* handle;
} interrupter_t;

static void* interrupt_later(void* p) {
    interrupter_t* it = p;
    struct timespec t = {0, 50 * 1000 * 1000};
    nanosleep(&t, NULL);
    strata_interrupt_handle_interrupt(it->handle);
    return NULL;
}

static void test_interrupt(void) {
    wasm_engine_t* engine = wasm_engine_new();
    wasm_store_t* store = wasm_store_new(engine);
    wasm_module_t* m = compile(store, "(module (func (export \"spin\") (loop $l (br $l))))");
    wasm_extern_vec_t none = WASM_EMPTY_VEC;
    wasm_trap_t* trap = NULL;
    wasm_instance_t* instance = wasm_instance_new(store, m, &none, &trap);
    wasm_extern_vec_t exports;
    wasm_instance_exports(instance, &exports);
    interrupter_t it = {strata_store_interrupt_handle(store)};
    pthread_t thread;
    pthread_create(&thread, NULL, interrupt_later, &it);
    wasm_val_vec_t empty = WASM_EMPTY_VEC, results = WASM_EMPTY_VEC;
    trap = wasm_func_call(wasm_extern_as_func(exports.data[0]), &empty, &results);
    pthread_join(thread, NULL);
    CHECK(trap != NULL);
    if (trap) {
        wasm_message_t msg;
        wasm_trap_message(trap, &msg);
        CHECK(strstr(msg.data, "interrupted") != NULL);
        wasm_byte_vec_delete(&msg);
        wasm_trap_delete(trap);
    }
    strata_interrupt_handle_delete(it.handle);
    wasm_extern_vec_delete(&exports);
    wasm_instance_delete(instance);
    wasm_module_delete(m);
    wasm_store_delete(store);
    wasm_engine_delete(engine);
}

static void test_wasi(const char* dir) {
    wasm_engine_t* engine = wasm_engine_new();
    wasm_store_t* store = wasm_store_new(engine);
    // Writes its first argument's length and "hi\n" to stdout, then exits with code 3.
    wasm_module_t* m = compile(store,
        "(module"
        "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $w (param i32 i32 i32 i32) (result i32)))"
        "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))"
        "  (memory (export \"memory\") 1)"
        "  (data (i32.const 16) \"hi\\n\")"
        "  (func (export \"_start\")"
        "    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))"
        "    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"
        "    (call $exit (i32.const 3))))");
    char path[4096];
    snprintf(path, sizeof path, "%s/wasi-stdout.txt", dir);
    FILE* out = fopen(path, "w+");
    strata_wasi_config_t* wasi = strata_wasi_config_new();
    const char* argv[] = {"prog", "x"};
    strata_wasi_config_set_argv(wasi, 2, argv);
    strata_wasi_config_inherit_env(wasi);
    CHECK(strata_wasi_config_preopen_dir(wasi, dir, "/data"));
    CHECK(!strata_wasi_config_preopen_dir(wasi, "/no/such/folder", "/x"));
    strata_wasi_config_set_stdio(wasi, 0, fileno(out), 2);
    strata_linker_t* linker = strata_linker_new(store);
    int32_t code = -1;
    wasm_trap_t* trap = NULL;
    wasm_instance_t* instance = NULL;
    // Without WASI in the linker: no instance (unknown imports), and no start.
    strata_error_t* e = strata_linker_instantiate(linker, m, &instance, &trap);
    CHECK(e != NULL && instance == NULL);
    if (e) strata_error_delete(e);
    CHECK(strata_linker_define_wasi(linker, wasi) == NULL);
    CHECK(strata_linker_instantiate(linker, m, &instance, &trap) == NULL && instance);
    CHECK(strata_linker_wasi_start(linker, instance, &code, &trap) == NULL && trap == NULL);
    CHECK(code == 3);
    fflush(out);
    rewind(out);
    char buf[16] = {0};
    CHECK(fread(buf, 1, sizeof buf - 1, out) == 3 && strcmp(buf, "hi\n") == 0);
    fclose(out);
    unlink(path);
    strata_wasi_config_delete(wasi);
    wasm_instance_delete(instance);
    strata_linker_delete(linker);
    wasm_module_delete(m);
    wasm_store_delete(store);
    wasm_engine_delete(engine);
}

int main(int argc, char** argv) {
    if (argc != 2) { fprintf(stderr, "usage: strata_test SCRATCH_DIR\n"); return 2; }
    test_settings_and_linker(argv[1]);
    test_interrupt();
    test_wasi(argv[1]);
    if (failures) { fprintf(stderr, "%d checks failed\n", failures); return 1; }
    printf("strata_test: all checks passed\n");
    return 0;
}
