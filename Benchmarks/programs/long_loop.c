// One long-running hot loop entered once: what tier-up without on-stack replacement misses.
int run(void) {
    unsigned long long x = 88172645463325252ull, acc = 0;
    for (int i = 0; i < 60000000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;   // xorshift64
        acc += x & 0xFF;
    }
    return (int)(acc ^ (acc >> 32));
}
