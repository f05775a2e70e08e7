// Indirect calls through a function table (call_indirect).
typedef int (*op_fn)(int, int);
static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b + 1; }
static int mix(int a, int b) { return (a ^ b) + (a >> 3); }
static op_fn table[4] = { add, sub, mul, mix };
__attribute__((noinline)) static int apply(op_fn const *t, int k, int a, int b) { return t[k & 3](a, b); }
int run(void) {
    int acc = 1;
    for (int i = 0; i < 5000000; i++) acc = apply(table, i ^ (acc & 7), acc, i) & 0xFFFFF;
    return acc;
}
