#!/usr/bin/env python3
"""Wasmtime peer for the benchmark harness (PyPI `wasmtime`).
Usage: wasmtime_driver.py MODULE REPS [cranelift|winch]
Prints the harness protocol: load, result, iteration (one per run), cpu, rss."""
import resource
import sys
import time

import wasmtime

path, reps = sys.argv[1], int(sys.argv[2])
strategy = sys.argv[3] if len(sys.argv) > 3 else "cranelift"
config = wasmtime.Config()
config.strategy = strategy
engine = wasmtime.Engine(config)
start = time.perf_counter()
module = wasmtime.Module.from_file(engine, path)
store = wasmtime.Store(engine)
instance = wasmtime.Instance(store, module, [])
print(f"load {time.perf_counter() - start:.9f}")
run = instance.exports(store)["run"] if reps > 0 else None
for i in range(reps):
    a = time.perf_counter()
    result = run(store)
    b = time.perf_counter()
    if i == 0:
        print(f"result {result}")
    print(f"iteration {b - a:.9f}")
usage = resource.getrusage(resource.RUSAGE_SELF)
print(f"cpu {usage.ru_utime + usage.ru_stime:.6f}")
print(f"rss {usage.ru_maxrss}")
