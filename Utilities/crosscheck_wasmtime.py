#!/usr/bin/env python3
"""Compares Strata's interpreter with Wasmtime on generated modules: an oracle outside Strata,
for what every tier would get wrong alike (decoding, validation, instantiation, the semantics
the tiers share).

    STRATA_SMITH_SAVE=DIR STRATA_SMITH_CASES=N swift test --filter GeneratedModuleTests
    python3 Utilities/crosscheck_wasmtime.py DIR

The test writes each module (SEED.wasm) and the interpreter's outcome (SEED.json: one line per
exported function called with zero arguments, then one per exported global; see
GeneratedModuleTests.outcome). This script runs the same calls in Wasmtime (PyPI `wasmtime`)
and prints every difference. Compared: validity, instantiation, results (floats by bit pattern,
NaNs as NaNs, since `--canonicalize-nans` leaves their sign open), trap kinds and globals.
Results the Python binding cannot carry (v128, exnref) end a module's comparison (each module
runs in a child process, since the binding aborts on a v128 type), and so does a trap that one
engine reports and the other does not (their instances' states differ from there on).
Exit status 1 when a difference was found.
"""
import json
import math
import os
import struct
import subprocess
import sys

import wasmtime

# Trap kinds (Strata's TrapKind descriptions) by the words of Wasmtime's trap messages.
TRAP_WORDS = [
    ("unreachable", "unreachable"),
    ("out of bounds memory access", "out of bounds memory access"),
    ("integer divide by zero", "integer divide by zero"),
    ("integer overflow", "integer overflow"),
    ("invalid conversion to integer", "invalid conversion to integer"),
    # Wasmtime reports one trap for an index past a table's end, whether `call_indirect` (the
    # spec's "undefined element") or `table.get` ("out of bounds table access") met it.
    ("undefined element", "table index out of bounds"),
    ("out of bounds table access", "table index out of bounds"),
    ("uninitialized element", "uninitialized element"),
    ("indirect call type mismatch", "indirect call type mismatch"),
    ("call stack exhausted", "call stack exhausted"),
    ("null reference", "null reference"),
    ("null function reference", "null reference"),
    ("exception", "exception"),
]


# The value types the Python binding reads without failing (even naming a v128 type aborts the
# process, so types are told apart by comparison).
KINDS = [(wasmtime.ValType.i32(), "i32"), (wasmtime.ValType.i64(), "i64"), (wasmtime.ValType.f32(), "f32"),
         (wasmtime.ValType.f64(), "f64"), (wasmtime.ValType.funcref(), "funcref"),
         (wasmtime.ValType.externref(), "externref")]
COMPARABLE = {k for _, k in KINDS}


def kind(t):
    for v, k in KINDS:
        if t == v:
            return k
    return "other"


def trap_kind(message):
    m = message.lower()
    for words, kind in TRAP_WORDS:
        if words in m:
            return kind
    return "other: " + message.splitlines()[0]


def engine():
    c = wasmtime.Config()
    for feature in ("wasm_simd", "wasm_relaxed_simd", "wasm_relaxed_simd_deterministic", "wasm_multi_memory",
                    "wasm_memory64", "wasm_tail_call", "wasm_exceptions", "wasm_bulk_memory",
                    "wasm_reference_types", "wasm_multi_value", "wasm_function_references"):
        try:
            setattr(c, feature, True)
        except Exception:
            pass
    return wasmtime.Engine(c)


def bits(v, t):
    """A value as GeneratedModuleTests.bits writes it, or None when it cannot be compared."""
    if isinstance(v, wasmtime.Val):  # how the binding reads a null funcref global
        v = v.value
    k = kind(t)
    if k == "i32":
        return "i32:%d" % v
    if k == "i64":
        return "i64:%d" % v
    if k == "f32":
        return "nan" if math.isnan(v) else "f32:%d" % struct.unpack("<I", struct.pack("<f", v))[0]
    if k == "f64":
        return "nan" if math.isnan(v) else "f64:%d" % struct.unpack("<Q", struct.pack("<d", v))[0]
    if k == "funcref":
        return "funcref:null" if v is None else "funcref"
    if k == "externref":
        return "externref:null" if v is None else None
    return None


def strata_value(s):
    """Strata's written value, with NaNs written as `nan` (either sign, any payload)."""
    if s.startswith("f32:"):
        b = int(s[4:])
        return "nan" if (b & 0x7F800000) == 0x7F800000 and (b & 0x7FFFFF) else s
    if s.startswith("f64:"):
        b = int(s[4:])
        return "nan" if (b & 0x7FF0000000000000) == 0x7FF0000000000000 and (b & 0xFFFFFFFFFFFFF) else s
    return s


def zero(t):
    k = kind(t)
    return {"i32": 0, "i64": 0, "f32": 0.0, "f64": 0.0}.get(k, None)


ONE = False
ABORTED = "the binding aborted (a v128 in an export's type)"


def progress(r):
    """In a child process: what was found so far, in case the next type aborts the process."""
    if ONE:
        print(json.dumps(dict(r, stopped=ABORTED)), flush=True)


def step(r, first, failure, fails, succeeds, make):
    """Module creation or instantiation in Wasmtime (`make`) against Strata's outcome, whose
    first line starts with `failure` when the step failed there: what `make` returned, or None
    when the comparison ends here (both failed, or only one did: a difference)."""
    r["checks"] += 1
    try:
        made = make()
    except Exception as e:
        if not first.startswith(failure):
            r["differences"].append("Wasmtime %s (%s), Strata: %s" % (fails, str(e).splitlines()[0], first))
        return None
    if first.startswith(failure):
        r["differences"].append("Strata %s (%s), Wasmtime %s" % (fails, first, succeeds))
        return None
    return made


def check(path, eng):
    """Differences between the saved outcome and Wasmtime's: {differences, checks, stopped}."""
    r = {"differences": [], "checks": 0, "stopped": None}
    differences = r["differences"]
    with open(path[:-5] + ".json") as f:
        expected = json.load(f)
    if expected and expected[-1] == "interrupted":
        return dict(r, stopped="interrupted in Strata")
    first = expected[0] if expected else ""
    store = wasmtime.Store(eng)
    module = step(r, first, "invalid", "rejects the module", "accepts it",
                  lambda: wasmtime.Module(eng, open(path, "rb").read()))
    if module is None:
        return r
    instance = step(r, first, "instantiation", "cannot instantiate", "can",
                    lambda: wasmtime.Instance(store, module, []))
    if instance is None:
        return r
    exports = instance.exports(store)
    i = 0
    for e in module.exports:
        progress(r)
        if not isinstance(e.type, wasmtime.FuncType):
            continue
        if i >= len(expected):
            differences.append("Strata has fewer outcome lines than exported functions")
            return r
        line = expected[i]
        i += 1
        want = line[len(e.name) + 2:] if line.startswith(e.name + ": ") else line.partition(": ")[2]
        ft = e.type
        if any(zero(p) is None for p in ft.params):
            return dict(r, stopped="a parameter the binding cannot pass")
        if any(kind(t) not in COMPARABLE for t in ft.results):
            return dict(r, stopped="a result the binding cannot carry")
        try:
            results = exports[e.name](store, *[zero(p) for p in ft.params])
        except (wasmtime.Trap, wasmtime.WasmtimeError) as t:
            got = "trap " + trap_kind(str(t))
        except Exception as t:
            return dict(r, stopped="the binding failed (%s)" % str(t).splitlines()[0])
        else:
            if len(ft.results) == 1:
                results = [results]
            elif results is None:
                results = []
            values = [bits(v, t) for v, t in zip(results, ft.results)]
            if any(v is None for v in values):
                return dict(r, stopped="a result the binding cannot compare")
            got = " ".join(values)
        if want.startswith("trap "):
            want = "trap " + trap_kind(want[5:])
        else:
            want = " ".join(strata_value(v) for v in want.split(" ")) if want else ""
        r["checks"] += 1
        if got != want:
            differences.append("%r: Strata %s, Wasmtime %s" % (e.name, want, got))
            if got.startswith("trap") or want.startswith("trap"):
                return dict(r, stopped="a trap in one engine only")  # the states differ from here on
    for e in module.exports:
        if not isinstance(e.type, wasmtime.GlobalType):
            continue
        progress(r)
        if i >= len(expected):
            break
        line = expected[i]
        i += 1
        prefix = "global %s: " % e.name
        want = strata_value(line[len(prefix):] if line.startswith(prefix) else line.partition(": ")[2])
        if kind(e.type.content) not in COMPARABLE:
            continue
        v = bits(exports[e.name].value(store), e.type.content)
        if v is not None:
            r["checks"] += 1
            if v != want:
                differences.append("global %r: Strata %s, Wasmtime %s" % (e.name, want, v))
    return r


def check_in_child(path):
    """`check` in a child process: the binding aborts the process when it meets a v128 type."""
    child = subprocess.run([sys.executable, __file__, "--one", path], capture_output=True, text=True)
    lines = child.stdout.splitlines()
    return json.loads(lines[-1]) if lines else {"differences": [], "checks": 0, "stopped": ABORTED}


def main():
    global ONE
    if sys.argv[1] == "--one":
        ONE = True
        print(json.dumps(check(sys.argv[2], engine())))
        return 0
    folder = sys.argv[1]
    files = sorted(p for p in os.listdir(folder) if p.endswith(".wasm"))
    checks = failed = 0
    stopped = {}
    for name in files:
        r = check_in_child(os.path.join(folder, name))
        checks += r["checks"]
        if r["stopped"]:
            stopped[r["stopped"]] = stopped.get(r["stopped"], 0) + 1
        if r["differences"]:
            failed += 1
            print("%s:" % name)
            for d in r["differences"]:
                print("  " + d)
    print("%d modules, %d outcomes compared (validity, instantiation, calls, globals), %d modules with differences"
          % (len(files), checks, failed))
    for why, n in sorted(stopped.items(), key=lambda x: -x[1]):
        print("  %d modules compared in part: %s" % (n, why))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
