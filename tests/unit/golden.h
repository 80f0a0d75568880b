/* Golden files for provider tests: tests/unit/golden/<provider>/<name>.
 * Found relative to the repo root (the working directory of
 * tests/run.sh), or under $FERRY_SRCDIR. */
#ifndef FERRY_TEST_GOLDEN_H
#define FERRY_TEST_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whole file as a NUL-terminated malloc'd buffer (a single trailing newline
 * is stripped unless keep_newline), or NULL. */
static inline char *golden_read(const char *rel, size_t *len, int keep_newline)
{
    char path[1024];
    const char *roots[] = {getenv("FERRY_SRCDIR"), ".", "..", "../.."};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        if (!roots[i])
            continue;
        snprintf(path, sizeof(path), "%s/tests/unit/golden/%s", roots[i], rel);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            continue;
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *buf = malloc((size_t)n + 1);
        if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            fclose(fp);
            return NULL;
        }
        fclose(fp);
        if (!keep_newline && n > 0 && buf[n - 1] == '\n')
            n--;
        buf[n] = 0;
        if (len)
            *len = (size_t)n;
        return buf;
    }
    return NULL;
}

#endif
