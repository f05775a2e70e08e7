#include "textstats.h"
#include <string.h>

// Distinct words by length, drawn as a horizontal bar chart scaled to 40 columns.
void print_histogram(FILE *out, const Table *t) {
    enum { MaxLength = 16 };
    unsigned long buckets[MaxLength + 1] = {0};
    unsigned long most = 0;
    for (size_t i = 0; i < t->bucketCount; i++) {
        for (const Entry *e = t->buckets[i]; e; e = e->next) {
            size_t n = strlen(e->word);
            if (n > MaxLength) n = MaxLength;
            buckets[n]++;
        }
    }
    for (int n = 1; n <= MaxLength; n++)
        if (buckets[n] > most) most = buckets[n];
    fprintf(out, "word lengths (distinct words):\n");
    for (int n = 1; n <= MaxLength; n++) {
        if (buckets[n] == 0) continue;
        int bar = most ? (int)((buckets[n] * 40 + most - 1) / most) : 0;
        fprintf(out, "%2d%s | ", n, n == MaxLength ? "+" : " ");
        for (int k = 0; k < bar; k++) fputc('#', out);
        fprintf(out, " %lu\n", buckets[n]);
    }
    // Mean and median word length, weighted by occurrences.
    unsigned long total = 0, weighted = 0;
    for (size_t i = 0; i < t->bucketCount; i++)
        for (const Entry *e = t->buckets[i]; e; e = e->next) {
            total += e->count;
            weighted += e->count * strlen(e->word);
        }
    if (total) fprintf(out, "mean word length %.3f over %lu words\n", (double)weighted / (double)total, total);
}
