// textstats: a small multi-file C program used to check Strata's WASI support against the
// same program built natively. It reads text files from a directory, counts lines, words and
// characters, keeps a word-frequency table, writes a report file, and prints a summary.
#ifndef TEXTSTATS_H
#define TEXTSTATS_H
#include <stddef.h>
#include <stdio.h>

typedef struct Entry {
    char *word;
    unsigned count;
    struct Entry *next;
} Entry;

typedef struct Table {
    Entry **buckets;
    size_t bucketCount;
    size_t size;
} Table;

typedef struct Counts {
    unsigned long lines, words, chars, longestLine;
} Counts;

// table.c
void table_init(Table *t, size_t buckets);
void table_add(Table *t, const char *word, size_t length);
Entry **table_sorted(const Table *t);  // by count desc, then word asc; caller frees
void table_free(Table *t);

// scan.c
void scan_stream(FILE *f, Counts *c, Table *t);
int scan_file(const char *path, Counts *c, Table *t);

// report.c
int write_report(const char *path, const char *title, const Counts *c, const Table *t, int top);
void print_summary(FILE *out, const char *title, const Counts *c, const Table *t, int top);
// histogram.c
void print_histogram(FILE *out, const Table *t);
#endif
