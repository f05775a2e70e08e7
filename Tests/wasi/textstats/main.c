// Usage: textstats OUTPUT_DIR FILE... (FILE "-" reads standard input)
// Environment: TEXTSTATS_TOP (how many words to list, default 5), TEXTSTATS_TITLE,
// TEXTSTATS_PROBE (a path to try opening).
// Exit status: the number of input files that could not be read.
#include "textstats.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s OUTPUT_DIR FILE...\n", argv[0]);
        return 64;
    }
    const char *topText = getenv("TEXTSTATS_TOP");
    const char *title = getenv("TEXTSTATS_TITLE");
    int top = topText ? atoi(topText) : 5;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    Counts total = {0};
    Table table;
    table_init(&table, 64);
    int missing = 0;
    for (int i = 2; i < argc; i++) {
        Counts c = {0};
        Table t;
        table_init(&t, 16);
        int status = 0;
        if (strcmp(argv[i], "-") == 0) {
            scan_stream(stdin, &c, &t);
        } else {
            status = scan_file(argv[i], &c, &t);
        }
        if (status != 0) {
            printf("%s: cannot read\n", argv[i]);
            missing++;
        } else {
            printf("%s: %lu lines, %lu words, %lu chars\n", argv[i], c.lines, c.words, c.chars);
            total.lines += c.lines;
            total.words += c.words;
            total.chars += c.chars;
            if (c.longestLine > total.longestLine) total.longestLine = c.longestLine;
            // Merge the file's words into the total table.
            Entry **sorted = table_sorted(&t);
            for (size_t k = 0; sorted[k]; k++)
                for (unsigned n = 0; n < sorted[k]->count; n++) table_add(&table, sorted[k]->word, strlen(sorted[k]->word));
            free(sorted);
        }
        table_free(&t);
    }
    print_summary(stdout, title ? title : "all files", &total, &table, top);

    char path[512];
    snprintf(path, sizeof path, "%s/report.txt", argv[1]);
    if (write_report(path, title ? title : "all files", &total, &table, top) != 0) {
        printf("cannot write %s\n", path);
        missing++;
    } else {
        printf("report written to %s\n", path);
    }
    // TEXTSTATS_PROBE names a path to try opening (a path outside the granted directories
    // must not be reachable under WASI).
    const char *probe = getenv("TEXTSTATS_PROBE");
    if (probe) {
        FILE *f = fopen(probe, "r");
        printf("probe %s: %s\n", probe, f ? "readable" : "denied");
        if (f) fclose(f);
    }
    print_histogram(stdout, &table);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("clock: %s\n", elapsed >= 0 ? "monotonic" : "went backwards");
    table_free(&table);
    return missing;
}
