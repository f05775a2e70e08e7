#include "textstats.h"
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
    return h;
}

void table_init(Table *t, size_t buckets) {
    t->buckets = calloc(buckets, sizeof(Entry *));
    t->bucketCount = buckets;
    t->size = 0;
}

static void grow(Table *t) {
    size_t n = t->bucketCount * 2;
    Entry **fresh = calloc(n, sizeof(Entry *));
    for (size_t i = 0; i < t->bucketCount; i++) {
        Entry *e = t->buckets[i];
        while (e) {
            Entry *next = e->next;
            size_t b = hash(e->word, strlen(e->word)) % n;
            e->next = fresh[b];
            fresh[b] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = fresh;
    t->bucketCount = n;
}

void table_add(Table *t, const char *word, size_t length) {
    size_t b = hash(word, length) % t->bucketCount;
    for (Entry *e = t->buckets[b]; e; e = e->next) {
        if (strlen(e->word) == length && memcmp(e->word, word, length) == 0) { e->count++; return; }
    }
    Entry *e = malloc(sizeof(Entry));
    e->word = malloc(length + 1);
    memcpy(e->word, word, length);
    e->word[length] = 0;
    e->count = 1;
    e->next = t->buckets[b];
    t->buckets[b] = e;
    t->size++;
    if (t->size > t->bucketCount * 2) grow(t);
}

static int compare(const void *a, const void *b) {
    const Entry *x = *(Entry *const *)a, *y = *(Entry *const *)b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->word, y->word);
}

Entry **table_sorted(const Table *t) {
    Entry **all = malloc((t->size + 1) * sizeof(Entry *));
    size_t k = 0;
    for (size_t i = 0; i < t->bucketCount; i++)
        for (Entry *e = t->buckets[i]; e; e = e->next) all[k++] = e;
    qsort(all, k, sizeof(Entry *), compare);
    all[k] = NULL;
    return all;
}

void table_free(Table *t) {
    for (size_t i = 0; i < t->bucketCount; i++) {
        Entry *e = t->buckets[i];
        while (e) { Entry *next = e->next; free(e->word); free(e); e = next; }
    }
    free(t->buckets);
}
