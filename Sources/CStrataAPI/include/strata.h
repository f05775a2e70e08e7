/*
 * strata.h: what wasm.h lacks, for C and C++ programs embedding Strata (in the spirit of
 * wasmtime.h): the tier and its settings, the code cache, compile threads and the tier log
 * (on wasm_config_t), interrupting a store from another thread, a linker that resolves
 * imports by module and name, WASI preview 1, text to binary, and error objects.
 *
 * Every function that can fail returns an owned strata_error_t* (NULL on success), whose
 * message says why; a Wasm trap comes back as a wasm_trap_t* where the function has one.
 */
#ifndef STRATA_H
#define STRATA_H

#include "wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define own

/* Errors */

typedef struct strata_error_t strata_error_t;
WASM_API_EXTERN void strata_error_delete(strata_error_t*);
/* The message, NUL-terminated (the vector is the caller's). */
WASM_API_EXTERN void strata_error_message(const strata_error_t*, wasm_name_t* out);

/* Configuration (before wasm_engine_new_with_config) */

typedef uint8_t strata_tier_t;
enum strata_tier_enum {
    STRATA_TIER_TIERED,      /* the default: interpreter, then baseline, then optimizing */
    STRATA_TIER_INTERPRETER,
    STRATA_TIER_BASELINE,
    STRATA_TIER_OPTIMIZING,
};
WASM_API_EXTERN void strata_config_tier_set(wasm_config_t*, strata_tier_t);
/* Tiered mode: the hotness that queues a function for the baseline tier, and the hotness,
   counted again in baseline code, that queues it for the optimizing tier (0: the default). */
WASM_API_EXTERN void strata_config_tier_up_threshold_set(wasm_config_t*, uint32_t);
WASM_API_EXTERN void strata_config_optimize_threshold_set(wasm_config_t*, uint32_t);
/* Background compile threads (0: the default, cores - 1, at least 1). */
WASM_API_EXTERN void strata_config_compile_threads_set(wasm_config_t*, uint32_t);
/* The code cache in `path` (NULL: $XDG_CACHE_HOME/strata or ~/.cache/strata); an error when
   the folder cannot be used. Without this call there is no code cache. */
WASM_API_EXTERN own strata_error_t* strata_config_cache_dir_set(wasm_config_t*, const char* path);
/* Called with one line of text per tiering event, from any thread; `finalizer(env)` runs when
   the engine goes. */
typedef void (*strata_tier_log_callback_t)(void* env, const char* event);
WASM_API_EXTERN void strata_config_tier_log_set(
    wasm_config_t*, strata_tier_log_callback_t, void* env, void (*finalizer)(void*));

/* Interruption: the handle can be used from any thread; the running call (or the next one)
   ends with an "interrupted" trap at its next loop iteration or call. */

typedef struct strata_interrupt_handle_t strata_interrupt_handle_t;
WASM_API_EXTERN own strata_interrupt_handle_t* strata_store_interrupt_handle(wasm_store_t*);
WASM_API_EXTERN void strata_interrupt_handle_interrupt(strata_interrupt_handle_t*);
WASM_API_EXTERN void strata_interrupt_handle_delete(strata_interrupt_handle_t*);

/* Text: the WebAssembly text format (.wat) to a binary module. */

WASM_API_EXTERN own strata_error_t* strata_wat2wasm(const char* text, size_t length, own wasm_byte_vec_t* out);

/* Linker: imports resolved by module and name, for one store. */

typedef struct strata_linker_t strata_linker_t;
WASM_API_EXTERN own strata_linker_t* strata_linker_new(wasm_store_t*);
WASM_API_EXTERN void strata_linker_delete(strata_linker_t*);
WASM_API_EXTERN own strata_error_t* strata_linker_define(
    strata_linker_t*, const char* module, size_t module_length, const char* name, size_t name_length, const wasm_extern_t*);
/* Every export of `instance` under the module name `name`. */
WASM_API_EXTERN own strata_error_t* strata_linker_define_instance(
    strata_linker_t*, const char* name, size_t name_length, const wasm_instance_t* instance);
/* On success *instance is set (and *trap NULL); an import the linker lacks is an error; a trap
   (the start function's) comes back in *trap, with *instance NULL. */
WASM_API_EXTERN own strata_error_t* strata_linker_instantiate(
    const strata_linker_t*, const wasm_module_t*, own wasm_instance_t** instance, own wasm_trap_t** trap);

/* WASI preview 1 */

typedef struct strata_wasi_config_t strata_wasi_config_t;
WASM_API_EXTERN own strata_wasi_config_t* strata_wasi_config_new(void);
WASM_API_EXTERN void strata_wasi_config_delete(strata_wasi_config_t*);
/* argv, the program name first. */
WASM_API_EXTERN void strata_wasi_config_set_argv(strata_wasi_config_t*, size_t argc, const char* const argv[]);
WASM_API_EXTERN void strata_wasi_config_set_env(
    strata_wasi_config_t*, size_t count, const char* const names[], const char* const values[]);
WASM_API_EXTERN void strata_wasi_config_inherit_env(strata_wasi_config_t*);
/* Grants the program `host_path`, seen as `guest_path`; false when it is not a folder. */
WASM_API_EXTERN bool strata_wasi_config_preopen_dir(strata_wasi_config_t*, const char* host_path, const char* guest_path);
/* The program's stdin, stdout and stderr (default: the process's own, 0, 1 and 2). */
WASM_API_EXTERN void strata_wasi_config_set_stdio(strata_wasi_config_t*, int stdin_fd, int stdout_fd, int stderr_fd);
/* Defines wasi_snapshot_preview1 in the linker (the configuration stays the caller's). */
WASM_API_EXTERN own strata_error_t* strata_linker_define_wasi(strata_linker_t*, const strata_wasi_config_t*);
/* Runs a WASI command's _start: its exit code (0 when _start returns), or a trap. */
WASM_API_EXTERN own strata_error_t* strata_linker_wasi_start(
    const strata_linker_t*, const wasm_instance_t*, int32_t* exit_code, own wasm_trap_t** trap);

#undef own

#ifdef __cplusplus
}
#endif

#endif /* STRATA_H */
