// Sieve of Eratosthenes over 8M bytes, repeated: loads, stores, tight loops.
#define N 8000000
static unsigned char flags[N];
int run(void) {
    int count = 0;
    for (int rep = 0; rep < 3; rep++) {
        count = 0;
        for (int i = 0; i < N; i++) flags[i] = 1;
        for (int i = 2; i < N; i++) {
            if (flags[i]) {
                count++;
                for (long long j = (long long)i * i; j < N; j += i) flags[j] = 0;
            }
        }
    }
    return count;
}
