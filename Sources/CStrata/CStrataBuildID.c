// The GNU build id of the binary Strata's code is linked into (the executable, or a shared
// library holding Strata): the code cache remembers its build identity per binary under it.
#define _GNU_SOURCE
#include "CStrataJIT.h"

#include <elf.h>
#include <link.h>
#include <string.h>

typedef struct BuildIDSearch {
    uintptr_t address;  // an address inside the image to find
    uint8_t *out;
    size_t capacity;
    size_t length;
} BuildIDSearch;

static int findBuildID(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    BuildIDSearch *search = data;
    int contains = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && search->address >= start && search->address < start + ph->p_memsz) contains = 1;
    }
    if (!contains) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof(ElfW(Nhdr));
            const uint8_t *desc = name + ((note->n_namesz + 3) & ~3u);
            const uint8_t *next = desc + ((note->n_descsz + 3) & ~3u);
            if (next > end) break;
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                size_t n = note->n_descsz < search->capacity ? note->n_descsz : search->capacity;
                memcpy(search->out, desc, n);
                search->length = n;
                return 1;
            }
            p = next;
        }
    }
    return 1;  // the image, without a build id
}

size_t strata_build_id(uint8_t *out, size_t capacity) {
    BuildIDSearch search = {(uintptr_t)&strata_build_id, out, capacity, 0};
    dl_iterate_phdr(findBuildID, &search);
    return search.length;
}
