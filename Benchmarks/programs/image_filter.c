// An image filter of the kind codecs and photo tools run, vectorized by clang (-msimd128):
// a 3x3 box-like blur (separable, 16-bit sums) then a brightness/contrast step with
// saturation, over an 8-bit greyscale image. Returns a checksum of the output.
#define W 256
#define H 256
static unsigned char src[H][W], tmp[H][W], dst[H][W];
static unsigned short rows[H][W];
int run(void) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) src[y][x] = (unsigned char)((x * 7 + y * 13) ^ (x * y));
    unsigned checksum = 0;
    for (int rep = 0; rep < 40; rep++) {
        // Horizontal pass: 16-bit sums of three neighbours.
        for (int y = 0; y < H; y++)
            for (int x = 1; x < W - 1; x++)
                rows[y][x] = (unsigned short)(src[y][x - 1] + 2 * src[y][x] + src[y][x + 1]);
        // Vertical pass, rounded and scaled back to 8 bits.
        for (int y = 1; y < H - 1; y++)
            for (int x = 1; x < W - 1; x++)
                tmp[y][x] = (unsigned char)((rows[y - 1][x] + 2 * rows[y][x] + rows[y + 1][x] + 8) >> 4);
        // Brightness and contrast with saturation.
        int gain = 3 + (rep & 3), bias = rep - 20;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int v = ((tmp[y][x] * gain) >> 1) + bias;
                dst[y][x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) checksum = checksum * 31 + dst[y][x];
        src[rep & (H - 1)][rep] ^= (unsigned char)checksum;
    }
    return (int)checksum;
}
