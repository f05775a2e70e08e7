#!/usr/bin/env python3
"""Where the interpreter's hot dispatch sequence (load the opcode ... `jmp *`) sits relative to
64-byte lines in a built binary (docs/ARCHITECTURE.md, "Placement of the dispatch loop").

Run after changing the dispatch loop: a sequence that straddles a line made call-heavy code 25%
slower. Usage: python3 Benchmarks/dispatch_layout.py [path to strata, default: release build].
Exit status 2 when the sequence straddles a line."""
import re
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/strata"
symbols = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
match = re.search(r"^([0-9a-f]+) \w (\S*interpreterDispatchyy\S*)$", symbols, re.M)
if not match:
    sys.exit(f"no interpreterDispatch in {binary}")
start = int(match.group(1), 16)
code = subprocess.run(
    ["objdump", "-d", "--no-show-raw-insn", f"--start-address={start}", f"--stop-address={start + 512}", binary],
    capture_output=True, text=True, check=True).stdout
head = jump = None
for line in code.splitlines():
    m = re.match(r"\s*([0-9a-f]+):\s+(.*)", line)
    if not m:
        continue
    address, instruction = int(m.group(1), 16), m.group(2)
    if head is None and instruction.startswith("movzwl"):
        head = address
    elif head is not None and re.match(r"jmp\s+\*%r", instruction):
        jump = address
        break
if head is None or jump is None:
    sys.exit("dispatch sequence not found")
end = jump + 2  # `jmp *%reg` is 2 bytes (3 with a REX prefix; see the line check below)
print(f"interpreterDispatch at {start:#x} ({start % 64} bytes past a 64-byte line)")
print(f"dispatch sequence {head:#x}-{end:#x}: offset {head - start:#x} in the function, bytes {head % 64}-{head % 64 + end - head} of its line")
if head // 64 != (end + 1) // 64:
    print("STRADDLES a 64-byte line")
    sys.exit(2)
print("within one 64-byte line")
