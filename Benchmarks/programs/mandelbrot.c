// Mandelbrot set: the demo. Counts points of a 320x240 grid inside the set, and draws a
// small ASCII picture into memory (exported as `picture`, 80x24 bytes).
static char picture[80 * 24];
static int iterate(double cr, double ci, int limit) {
    double zr = 0, zi = 0;
    int n = 0;
    while (n < limit && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
    }
    return n;
}
char *picture_address(void) {
    const char *shades = " .:-=+*#%@";
    for (int y = 0; y < 24; y++)
        for (int x = 0; x < 80; x++) {
            int n = iterate(-2.2 + x * 3.0 / 80, -1.2 + y * 2.4 / 24, 200);
            picture[y * 80 + x] = n >= 200 ? '@' : shades[n % 9];
        }
    return picture;
}
int run(void) {
    int inside = 0;
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++)
            if (iterate(-2.2 + x * 3.0 / 320, -1.2 + y * 2.4 / 240, 1000) >= 1000) inside++;
    return inside;
}
