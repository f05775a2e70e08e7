// The README's C example as a whole program (built and run by Tests/capi/run.sh, so it keeps
// compiling and working). Usage: readme_example ADD.wasm (Tests/capi/add.wat).
#include <stdio.h>
#include <stdlib.h>
#include "wasm.h"

static wasm_trap_t* log_i32(const wasm_val_vec_t* args, wasm_val_vec_t* results) {
    (void)results;
    printf("log: %d\n", args->data[0].of.i32);
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    FILE* f = fopen(argv[1], "rb");
    if (!f) return 2;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    wasm_byte_vec_t binary;
    wasm_byte_vec_new_uninitialized(&binary, (size_t)n);
    if (fread(binary.data, 1, (size_t)n, f) != (size_t)n) return 2;
    fclose(f);

    wasm_engine_t* engine = wasm_engine_new();
    wasm_store_t* store = wasm_store_new(engine);
    wasm_module_t* module = wasm_module_new(store, &binary);  // NULL if malformed
    wasm_byte_vec_delete(&binary);
    if (!module) return 1;
    wasm_functype_t* type = wasm_functype_new_1_0(wasm_valtype_new_i32());
    wasm_func_t* log = wasm_func_new(store, type, log_i32);
    wasm_extern_t* list[] = {wasm_func_as_extern(log)};
    wasm_extern_vec_t imports = WASM_ARRAY_VEC(list);
    wasm_trap_t* trap = NULL;
    wasm_instance_t* instance = wasm_instance_new(store, module, &imports, &trap);
    if (!instance) return 1;
    wasm_extern_vec_t exports;
    wasm_instance_exports(instance, &exports);
    wasm_val_t args[2] = {WASM_I32_VAL(2), WASM_I32_VAL(3)}, results[1];
    wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(results);
    trap = wasm_func_call(wasm_extern_as_func(exports.data[0]), &a, &r);
    int ok = trap == NULL && results[0].of.i32 == 5;
    printf("add(2, 3) = %d\n", results[0].of.i32);

    if (trap) wasm_trap_delete(trap);
    wasm_extern_vec_delete(&exports);
    wasm_instance_delete(instance);
    wasm_func_delete(log);
    wasm_functype_delete(type);
    wasm_module_delete(module);
    wasm_store_delete(store);
    wasm_engine_delete(engine);
    return ok ? 0 : 1;
}
