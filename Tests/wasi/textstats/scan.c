#include "textstats.h"
#include <ctype.h>
#include <string.h>

void scan_stream(FILE *f, Counts *c, Table *t) {
    char word[256];
    size_t length = 0;
    unsigned long lineLength = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF) {
        c->chars++;
        if (ch == '\n') {
            c->lines++;
            if (lineLength > c->longestLine) c->longestLine = lineLength;
            lineLength = 0;
        } else {
            lineLength++;
        }
        if (isalnum(ch) || ch == '\'') {
            if (length < sizeof(word) - 1) word[length++] = (char)tolower(ch);
        } else if (length > 0) {
            c->words++;
            table_add(t, word, length);
            length = 0;
        }
    }
    if (length > 0) { c->words++; table_add(t, word, length); }
    if (lineLength > 0) {
        c->lines++;
        if (lineLength > c->longestLine) c->longestLine = lineLength;
    }
}

int scan_file(const char *path, Counts *c, Table *t) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    scan_stream(f, c, t);
    fclose(f);
    return 0;
}
