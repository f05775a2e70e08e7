#!/usr/bin/env python3
"""Writes a large C file of varied functions (loops, switches, memory and float code);
compiled with clang to wasm32 it is the decode/validate throughput input.
Usage: make_large_module.py N > big.c   (N functions)"""
import random, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
rng = random.Random(42)
print("static int mem[4096]; static double fm[1024];")
for i in range(n):
    kind = i % 4
    print(f"__attribute__((noinline)) int f{i}(int a, int b) {{")
    if kind == 0:
        print("  int s = 0;")
        print(f"  for (int i = 0; i < a; i++) {{ s += (i * {rng.randint(1,99)}) ^ (b >> (i & 7)); mem[(s + i) & 4095] = s; }}")
        print("  return s;")
    elif kind == 1:
        print("  switch ((a + b) & 15) {")
        for c in range(16):
            print(f"    case {c}: return a * {rng.randint(1,999)} + b - {rng.randint(1,99)};")
        print("  }\n  return 0;")
    elif kind == 2:
        print("  double x = a, y = b;")
        print(f"  for (int i = 0; i < 8; i++) {{ x = x * 0.{rng.randint(1,9)} + y; y = fm[(i + a) & 1023] - x / (y + 1.5); fm[i] = x; }}")
        print("  return (int)(x + y);")
    else:
        callee = rng.randint(0, max(i - 1, 0))
        print(f"  if (a > {rng.randint(0,50)}) return f{callee}(a - 1, b + {rng.randint(1,9)});")
        print(f"  return mem[(a * b) & 4095] + {rng.randint(0, 1000)};")
    print("}")
print("int run(int x) { int s = 0;")
for i in range(0, n, max(n // 64, 1)):
    print(f"  s += f{i}(x, s);")
print("  return s; }")
