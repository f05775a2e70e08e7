#!/usr/bin/env python3
"""Checks, in a built binary, that the interpreter's dispatch is threaded as designed
(docs/ARCHITECTURE.md, "Interpreter"): one handler per opcode (the operations of the dispatch
loop and of its second loop), each ending in its own indirect jump to the next handler,
with its Swift operation inlined (no call to a `strata_op_*` function). Two kinds of handler
have no indirect jump: one the compiler merged with an identical handler (a direct `jmp` to it,
e.g. `f32_add_add_r` and `f32_add_add`), and one whose operation never continues (`unreachable`
only returns). The handlers are also checked to start at a 4 KiB page boundary, with the
table's first handler, so that where they fall relative to pages does not move with the size
of unrelated code (CStrataDispatch.h, `STRATA_PAGE_ALIGNED_HANDLER`). A back edge's handler
(`..._back`, `..._back_iacc`) saves no register but rbp: nothing it passes on is live across its
slow-path call but the frame pointer, which the handler keeps in r14 (the generator passes 0
for the integer accumulator after a back edge; generate_threaded_dispatch.py).

Usage: python3 Utilities/check_threaded_dispatch.py [path to strata, default: release build].
Exit status 1 when a handler is missing, calls its operation or has no indirect jump of its own,
when a back edge's handler pushes a register other than rbp, or when the handlers do not start at
a page with the page-aligned one."""
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_threaded_dispatch import is_back_edge  # noqa: E402 (the generator's own rule)

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/strata"
generated = Path(__file__).resolve().parent.parent / "Sources/CStrataDispatch/include/StrataThreadedHandlers.inc"
expected = set(re.findall(r"^STRATA_DEFINE_(?:FACC_|IACC_)?HANDLER\((\w+)\)$", generated.read_text(), re.M))

symbols = []
for line in subprocess.run(["nm", "-n", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        symbols.append((int(parts[0], 16), parts[2]))
handlers = {}
for i, (address, name) in enumerate(symbols):
    if name.startswith("strata_handler_"):
        end = next((a for a, _ in symbols[i + 1:] if a > address), address + 4096)
        handlers[name[len("strata_handler_"):]] = (address, end)
operations = {address: name for address, name in symbols if name.startswith("strata_op_")}

problems = []
missing = expected - set(handlers)
if missing:
    problems.append(f"{len(missing)} handlers missing, e.g. {sorted(missing)[:5]}")
low = min(a for a, _ in handlers.values())
first = re.search(r"^STRATA_PAGE_ALIGNED_HANDLER\((\w+)\)$", generated.read_text(), re.M)
if not first or first.group(1) not in handlers or handlers[first.group(1)][0] != low or low % 4096:
    problems.append(f"the handlers do not start at a page boundary with the page-aligned one (first at {low:#x})")
high = max(e for _, e in handlers.values())
listing = subprocess.run(
    ["objdump", "-d", "--no-show-raw-insn", f"--start-address={low}", f"--stop-address={high}", binary],
    capture_output=True, text=True, check=True).stdout
instructions = []
for line in listing.splitlines():
    m = re.match(r"\s*([0-9a-f]+):\s+(.*)", line)
    if m:
        instructions.append((int(m.group(1), 16), m.group(2)))
starts = {start for start, _ in handlers.values()}
for name, (start, end) in sorted(handlers.items()):
    body = [text for address, text in instructions if start <= address < end]
    jumps = [int(m.group(1), 16) for m in (re.match(r"jmp\s+([0-9a-f]+)", t) for t in body) if m]
    dispatches = any(re.match(r"jmp\s+\*%r", text) for text in body)
    merged = any(target in starts and target != start for target in jumps)
    ends = all(start <= target < end for target in jumps) and any(t.startswith("ret") for t in body)
    if not (dispatches or merged or ends):
        problems.append(f"strata_handler_{name}: no indirect jump of its own")
    if is_back_edge(name):
        saved = [m.group(1) for m in (re.match(r"push\s+(%\w+)", t) for t in body) if m and m.group(1) != "%rbp"]
        if saved:
            problems.append(f"strata_handler_{name}: a back edge that saves {', '.join(saved)} on every iteration")
    for text in body:
        call = re.match(r"call\s+([0-9a-f]+)", text)
        if call and int(call.group(1), 16) in operations:
            problems.append(f"strata_handler_{name}: calls {operations[int(call.group(1), 16)]} (not inlined)")
print(f"{len(handlers)} threaded handlers checked ({len(expected)} expected)")
for p in problems[:20]:
    print("  " + p)
sys.exit(1 if problems else 0)
