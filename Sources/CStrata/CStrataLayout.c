// Code placement for the interpreter's dispatch loop (see docs/ARCHITECTURE.md, "Interpreter").
//
// `interpreterDispatch` (Swift) is placed in its own section, `strata_dispatch`. This read-only
// anchor in the same section raises the section's alignment to 64 bytes and, linked first (the
// C target comes before the Swift one), puts the function 48 bytes past a 64-byte boundary in
// every build. Without it, where the loop's hot dispatch sequence fell relative to 64-byte
// fetch lines changed with every unrelated code change, and the interpreter's speed with it:
// straddling a line cost 25% on call-heavy code. 48 keeps the sequence (about 27 bytes, 0x67
// into the function with Swift 6.3) inside one line; after changing the dispatch loop, check it
// with `python3 Benchmarks/dispatch_layout.py`.
#include <stdint.h>

__attribute__((section("strata_dispatch"), aligned(64), used, retain))
const unsigned char strata_dispatch_alignment_anchor[48] = {0};

// The linker defines these for a section whose name is a C identifier.
extern const unsigned char __start_strata_dispatch[];
extern const unsigned char __stop_strata_dispatch[];

void strata_dispatch_layout(uintptr_t *sectionStart, uintptr_t *sectionEnd, uintptr_t *anchor) {
    *sectionStart = (uintptr_t)__start_strata_dispatch;
    *sectionEnd = (uintptr_t)__stop_strata_dispatch;
    *anchor = (uintptr_t)strata_dispatch_alignment_anchor;
}
