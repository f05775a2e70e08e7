// wasm.h from C++: the header compiles as C++ and a C++ program links and runs against
// libstrata_c. Usage: cpp_test MAIN.wasm (the module of capi_test.c).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>
#include "wasm.h"

template <typename T, void (*Delete)(T*)> struct Owned {
    T* p;
    explicit Owned(T* p) : p(p) {}
    ~Owned() { if (p) Delete(p); }
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
};

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    std::ifstream file(argv[1], std::ios::binary);
    std::vector<char> data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    wasm_byte_vec_t bytes;
    wasm_byte_vec_new(&bytes, data.size(), data.data());

    Owned<wasm_engine_t, wasm_engine_delete> engine(wasm_engine_new());
    Owned<wasm_store_t, wasm_store_delete> store(wasm_store_new(engine.p));
    Owned<wasm_module_t, wasm_module_delete> module(wasm_module_new(store.p, &bytes));
    wasm_byte_vec_delete(&bytes);
    if (!module.p) { std::fprintf(stderr, "cpp_test: module not created\n"); return 1; }

    // The imports: a host function from a captureless lambda, and two globals.
    wasm_valtype_t* ps[4] = {wasm_valtype_new_i32(), wasm_valtype_new_i64(), wasm_valtype_new_f32(), wasm_valtype_new_f64()};
    wasm_valtype_t* rs[2] = {wasm_valtype_new_i32(), wasm_valtype_new_i64()};
    wasm_valtype_vec_t params, results;
    wasm_valtype_vec_new(&params, 4, ps);
    wasm_valtype_vec_new(&results, 2, rs);
    Owned<wasm_functype_t, wasm_functype_delete> type(wasm_functype_new(&params, &results));
    wasm_func_callback_t callback = [](const wasm_val_vec_t* args, wasm_val_vec_t* out) -> wasm_trap_t* {
        out->data[0].kind = WASM_I32;
        out->data[0].of.i32 = args->data[0].of.i32 + 1;
        out->data[1].kind = WASM_I64;
        out->data[1].of.i64 = 0;
        return nullptr;
    };
    Owned<wasm_func_t, wasm_func_delete> hello(wasm_func_new(store.p, type.p, callback));
    Owned<wasm_globaltype_t, wasm_globaltype_delete> ct(wasm_globaltype_new(wasm_valtype_new_i32(), WASM_CONST));
    Owned<wasm_globaltype_t, wasm_globaltype_delete> mt(wasm_globaltype_new(wasm_valtype_new_i64(), WASM_VAR));
    wasm_val_t zero32 = WASM_I32_VAL(0), zero64 = WASM_I64_VAL(0);
    Owned<wasm_global_t, wasm_global_delete> g1(wasm_global_new(store.p, ct.p, &zero32));
    Owned<wasm_global_t, wasm_global_delete> g2(wasm_global_new(store.p, mt.p, &zero64));
    wasm_extern_t* list[3] = {wasm_func_as_extern(hello.p), wasm_global_as_extern(g1.p), wasm_global_as_extern(g2.p)};
    wasm_extern_vec_t imports = WASM_ARRAY_VEC(list);
    wasm_trap_t* trap = nullptr;
    Owned<wasm_instance_t, wasm_instance_delete> instance(wasm_instance_new(store.p, module.p, &imports, &trap));
    if (!instance.p) { std::fprintf(stderr, "cpp_test: instantiation failed\n"); return 1; }

    wasm_extern_vec_t exports;
    wasm_instance_exports(instance.p, &exports);
    wasm_func_t* run = nullptr;
    wasm_exporttype_vec_t types;
    wasm_module_exports(module.p, &types);
    for (size_t i = 0; i < types.size; i++) {
        const wasm_name_t* n = wasm_exporttype_name(types.data[i]);
        if (std::string(n->data, n->size) == "run") run = wasm_extern_as_func(exports.data[i]);
    }
    wasm_val_t args[1] = {WASM_I32_VAL(41)};
    wasm_val_t out[2] = {WASM_INIT_VAL, WASM_INIT_VAL};
    wasm_val_vec_t a = WASM_ARRAY_VEC(args), r = WASM_ARRAY_VEC(out);
    trap = run ? wasm_func_call(run, &a, &r) : nullptr;
    bool ok = run && !trap && out[0].of.i32 == 42 && out[1].of.i64 == 1;
    if (trap) wasm_trap_delete(trap);
    wasm_exporttype_vec_delete(&types);
    wasm_extern_vec_delete(&exports);
    std::printf(ok ? "cpp_test: passed\n" : "cpp_test: FAILED\n");
    return ok ? 0 : 1;
}
