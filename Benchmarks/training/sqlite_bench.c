// Training workload: SQLite (in-memory database) inserting, indexing, querying, updating.
#include <stdio.h>
#include "sqlite3.h"
static void run(sqlite3 *db, const char *sql) {
    char *err = 0;
    if (sqlite3_exec(db, sql, 0, 0, &err) != SQLITE_OK) { printf("error: %s\n", err); }
}
static int rows = 0;
static int count(void *p, int n, char **v, char **c) { rows++; return 0; }
int main(void) {
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) { printf("open failed\n"); return 1; }
    run(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL)");
    run(db, "BEGIN");
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t(a, b, c) VALUES(?, ?, ?)", -1, &st, 0);
    char buf[64];
    unsigned x = 12345;
    for (int i = 0; i < 60000; i++) {
        x = x * 1103515245u + 12345u;
        snprintf(buf, sizeof buf, "name-%u-%d", x % 9973, i);
        sqlite3_bind_int(st, 1, (int)(x % 100000));
        sqlite3_bind_text(st, 2, buf, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 3, (x % 1000) / 7.0);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    run(db, "COMMIT");
    run(db, "CREATE INDEX ta ON t(a)");
    char *err = 0;
    sqlite3_exec(db, "SELECT a, count(*), sum(c) FROM t GROUP BY a % 100 ORDER BY 2 DESC", count, 0, &err);
    sqlite3_exec(db, "SELECT * FROM t WHERE b LIKE '%-7%' ORDER BY c LIMIT 500", count, 0, &err);
    for (int i = 0; i < 3000; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT id, b FROM t WHERE a BETWEEN %d AND %d", i * 30, i * 30 + 20);
        sqlite3_exec(db, q, count, 0, &err);
    }
    run(db, "UPDATE t SET c = c * 2 WHERE a % 3 = 0");
    run(db, "DELETE FROM t WHERE a % 5 = 0");
    sqlite3_exec(db, "SELECT count(*), avg(length(b)) FROM t", count, 0, &err);
    printf("rows %d\n", rows);
    sqlite3_close(db);
    return 0;
}
