#include "textstats.h"
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

void print_summary(FILE *out, const char *title, const Counts *c, const Table *t, int top) {
    fprintf(out, "== %s\n", title);
    fprintf(out, "lines %lu, words %lu, chars %lu, longest line %lu, distinct words %zu\n",
            c->lines, c->words, c->chars, c->longestLine, t->size);
    Entry **sorted = table_sorted(t);
    for (int i = 0; i < top && sorted[i]; i++) {
        double share = c->words ? 100.0 * sorted[i]->count / (double)c->words : 0;
        fprintf(out, "%3d. %-16s %6u  %5.2f%%\n", i + 1, sorted[i]->word, sorted[i]->count, share);
    }
    free(sorted);
}

int write_report(const char *path, const char *title, const Counts *c, const Table *t, int top) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    print_summary(f, title, c, t, top);
    Entry **sorted = table_sorted(t);
    uint64_t checksum = 0;
    for (size_t i = 0; sorted[i]; i++) {
        for (const char *p = sorted[i]->word; *p; p++) checksum = checksum * 31 + (unsigned char)*p;
        checksum += sorted[i]->count;
    }
    fprintf(f, "checksum %" PRIu64 "\n", checksum);
    free(sorted);
    return fclose(f);
}
