#!/usr/bin/env python3
"""Chooses superinstruction pairs from pair profiles (`strata run --tier interpreter
--pair-profile FILE ...`, one file per training program).

Each program's counts are normalized to fractions of its own pairs, so every program weighs
alike; a program given as several files (A+B) is their average. Pairs whose first instruction
does not always continue with the next (branches, calls, returns, traps) cannot be sequences
and are left out, and so are pairs with an instruction of the float accumulator. A sequence's case
calls both operations by name where both have one (`opX(pc, fp, st)`), else runs each half's own
case expression.

Usage: choose_sequence_pairs.py [--apply] N PROGRAM=FILE[+FILE...] ...   prints the N best pairs
as Swift table rows, with each pair's weight and the programs it comes from. With --apply it
also makes them the interpreter's sequences: the sequence opcodes (Opcode.swift), their cases in
the dispatch switch (Dispatch.swift) and the table (`sequencePairs`, Superinstructions.swift)
are replaced; then run generate_threaded_dispatch.py."""
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISPATCH = (ROOT / "Sources/Strata/Interpreter/Dispatch.swift").read_text()
MAIN = DISPATCH[DISPATCH.index("func dispatchLoop<"):DISPATCH.index("default: next = Interpreter.dispatchSIMD")]
NAMED = {m.group(2): m.group(3) for m in re.finditer(
    r"case \.(`?)(\w+)\1: next = (?:produce\(pc, fp, st, &iacc\) \{ pc, fp, st in )?(op\w+)\(pc, fp, st\)(?: \})?$", MAIN, re.M)}
# Every single-opcode case's expression, for sequences whose halves use the integer accumulator.
CASES = {m.group(2): m.group(3) for m in re.finditer(r"^    case \.(`?)(\w+)\1: next = (.+)$", MAIN, re.M)}
_ACC = (ROOT / "Sources/Strata/Interpreter/IntegerAccumulator.swift").read_text()
# The integer accumulator's consumer forms (IntegerAccumulator.swift), which may take part in pairs
# like named operations.
CONSUMERS = set(re.findall(r"\(\.\w+, \d, \.(\w+)\)", _ACC[_ACC.index("let integerAccumulatorConsumers"):]))
_ACC = _ACC[_ACC.index("= [", _ACC.index("let integerAccumulatorProducers")):]
PRODUCERS = set(re.findall(r"\.(\w+)", _ACC[:_ACC.index("\n]")]))
# The instructions a sequence can hold: every single-line case of the main switch, except those
# of the float accumulator (a handler passes one accumulator on, and a pair with an integer
# accumulator half would need both).
ELIGIBLE = {name for name, expression in CASES.items() if "&facc" not in expression}
CONTROL = re.compile(r"^(br|br_.*|.*_br_if_.*|return.*|call.*|unreachable|throw.*|osr_transfer|lazy_translate|exception_landing)$")


def load(files):
    total = defaultdict(float)
    for f in files:
        rows = [line.split() for line in Path(f).read_text().splitlines() if line.strip()]
        n = sum(int(r[0]) for r in rows) or 1
        for count, a, b in rows:
            total[(a, b)] += int(count) / n / len(files)
    return total


def apply(chosen):
    """Replaces the sequence opcodes, their switch cases and the pair table by `chosen`."""
    opcode_file = ROOT / "Sources/Strata/Interpreter/Opcode.swift"
    dispatch_file = ROOT / "Sources/Strata/Interpreter/Dispatch.swift"
    table_file = ROOT / "Sources/Strata/Interpreter/Superinstructions.swift"
    rows = [(a, b, f"{a}__{b}", note) for note, (a, b) in chosen]
    s = opcode_file.read_text()
    old = re.findall(r"^    case (\w+__\w+)$", s, re.M)
    start = s.index(f"    case {old[0]}\n")
    end = s.index(f"    case {old[-1]}\n") + len(f"    case {old[-1]}\n")
    if s[start:end].count("\n") != len(old):
        sys.exit("the sequence opcodes in Opcode.swift are not one block")
    opcode_file.write_text(s[:start] + "".join(f"    case {c}\n" for _, _, c, _ in rows) + s[end:])
    def sequence_case(a, b, c):
        if b in CONSUMERS or a in CONSUMERS or a not in NAMED or b not in NAMED:
            # The second reads what the first left in the integer accumulator, the first reads it
            # from the instruction before the pair, or a half has no named operation (a constant
            # form): each half runs its own case's expression.
            return f"    case .{c}: next = sequence(pc, fp, st, {{ pc, fp, st in {CASES[a]} }}) {{ pc, fp, st in {CASES[b]} }}"
        if b in PRODUCERS:
            # A pair whose second instruction leaves its result in the integer accumulator does
            # so as a sequence too.
            return f"    case .{c}: next = sequence(pc, fp, st, {NAMED[a]}) {{ pc, fp, st in produce(pc, fp, st, &iacc, {NAMED[b]}) }}"
        return f"    case .{c}: next = sequence(pc, fp, st, {NAMED[a]}, {NAMED[b]})"

    d = dispatch_file.read_text()
    out, inserted = [], False
    for line in d.split("\n"):
        if re.match(r"^    case \.\w+__\w+: next = sequence\(", line):
            if not inserted:
                out += [sequence_case(a, b, c) for a, b, c, _ in rows]
                inserted = True
            continue
        out.append(line)
    d = "\n".join(out)
    # The second loop returns every main-loop opcode it does not run itself to the main loop.
    second = d[d.index("static func dispatchSIMD("):]
    handled = set(re.findall(r"^\s*case \.(\w+): next =", second, re.M))
    m = re.search(r"^\s*case (\.select, \.unreachable,[^\n]*):\n\s*return \(pc, fp, st\)", d, re.M)
    names = [n.strip()[1:] for n in m.group(1).split(",") if "__" not in n]
    names += [c for _, _, c, _ in rows if c not in handled]
    d = d[:m.start(1)] + ", ".join("." + n for n in names) + d[m.end(1):]
    dispatch_file.write_text(d)
    t = table_file.read_text()
    head = "let sequencePairs: [(Opcode, Opcode, Opcode)] = [\n"
    a = t.index(head) + len(head)
    b = t.index("]\n", a)
    table_file.write_text(t[:a] + "".join(f"    (.{x}, .{y}, .{c}),  // {note}\n" for x, y, c, note in rows) + t[b:])


def main():
    args = sys.argv[1:]
    write = "--apply" in args
    args = [a for a in args if a != "--apply"]
    n = int(args[0])
    programs = {}
    for arg in args[1:]:
        name, files = arg.split("=", 1)
        programs[name] = load(files.split("+"))
    weight = defaultdict(float)
    sources = defaultdict(list)
    for name, pairs in programs.items():
        for pair, w in pairs.items():
            weight[pair] += w / len(programs)
            if w > 0.005:
                sources[pair].append(name)
    chosen = [(w, p) for p, w in weight.items()
              if not CONTROL.match(p[0]) and p[0] in ELIGIBLE and p[1] in ELIGIBLE]
    chosen.sort(reverse=True)
    rows = [(f"{w * 100:.2f}% {','.join(sources[(a, b)])}".strip(), (a, b)) for w, (a, b) in chosen[:n]]
    for note, (a, b) in rows:
        print(f"    (.{a}, .{b}, .{a}__{b}),  // {note}")
    if write:
        apply(rows)


if __name__ == "__main__":
    main()
