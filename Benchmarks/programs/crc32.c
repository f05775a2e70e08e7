// CRC-32 over a large buffer: table lookups, shifts, byte loads.
#define N (1 << 20)
static unsigned table[256];
static unsigned char data[N];
int run(void) {
    for (unsigned i = 0; i < 256; i++) {
        unsigned c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    for (int i = 0; i < N; i++) data[i] = (unsigned char)(i * 131 + (i >> 7));
    unsigned crc = 0;
    for (int rep = 0; rep < 20; rep++) {
        crc = ~crc;
        for (int i = 0; i < N; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        crc = ~crc;
    }
    return (int)crc;
}
