// The GDB JIT interface (GDB manual, "JIT Compilation Interface"; LLDB implements it too): a
// debugger sets a breakpoint on __jit_debug_register_code and, when it is hit, reads the
// in-memory object file the descriptor's relevant entry points to. The symbols are weak, so
// a process holding another JIT that defines them shares one list.
#include "CStrataJIT.h"

#include <pthread.h>
#include <stdlib.h>

typedef enum { JIT_NOACTION = 0, JIT_REGISTER_FN, JIT_UNREGISTER_FN } jit_actions_t;

struct jit_code_entry {
    struct jit_code_entry *next_entry;
    struct jit_code_entry *prev_entry;
    const char *symfile_addr;
    uint64_t symfile_size;
};

struct jit_descriptor {
    uint32_t version;
    uint32_t action_flag;  // a jit_actions_t
    struct jit_code_entry *relevant_entry;
    struct jit_code_entry *first_entry;
};

__attribute__((weak, noinline, used)) void __jit_debug_register_code(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((weak, used)) struct jit_descriptor __jit_debug_descriptor = { 1, JIT_NOACTION, NULL, NULL };

static pthread_mutex_t gdbLock = PTHREAD_MUTEX_INITIALIZER;

void *strata_gdb_jit_register(const void *object, uint64_t size) {
    struct jit_code_entry *entry = calloc(1, sizeof *entry);
    if (entry == NULL) return NULL;
    entry->symfile_addr = object;
    entry->symfile_size = size;
    pthread_mutex_lock(&gdbLock);
    entry->next_entry = __jit_debug_descriptor.first_entry;
    if (entry->next_entry) entry->next_entry->prev_entry = entry;
    __jit_debug_descriptor.first_entry = entry;
    __jit_debug_descriptor.relevant_entry = entry;
    __jit_debug_descriptor.action_flag = JIT_REGISTER_FN;
    __jit_debug_register_code();
    __jit_debug_descriptor.action_flag = JIT_NOACTION;
    pthread_mutex_unlock(&gdbLock);
    return entry;
}

void strata_gdb_jit_unregister(void *handle) {
    struct jit_code_entry *entry = handle;
    if (entry == NULL) return;
    pthread_mutex_lock(&gdbLock);
    if (entry->prev_entry) entry->prev_entry->next_entry = entry->next_entry;
    else __jit_debug_descriptor.first_entry = entry->next_entry;
    if (entry->next_entry) entry->next_entry->prev_entry = entry->prev_entry;
    __jit_debug_descriptor.relevant_entry = entry;
    __jit_debug_descriptor.action_flag = JIT_UNREGISTER_FN;
    __jit_debug_register_code();
    __jit_debug_descriptor.action_flag = JIT_NOACTION;
    pthread_mutex_unlock(&gdbLock);
    free(entry);
}

size_t strata_gdb_jit_entries(const void **objects, size_t capacity) {
    pthread_mutex_lock(&gdbLock);
    size_t n = 0;
    for (struct jit_code_entry *e = __jit_debug_descriptor.first_entry; e != NULL; e = e->next_entry) {
        if (n < capacity) objects[n] = e->symfile_addr;
        n++;
    }
    pthread_mutex_unlock(&gdbLock);
    return n;
}
