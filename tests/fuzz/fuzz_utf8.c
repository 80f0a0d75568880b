/* libFuzzer target for the text sanitiser: whatever the bytes, the output
 * is clean, NUL-terminated, no longer than 3 bytes per input byte, and a
 * fixed point of text_sanitize.  Clean input passes through unchanged.  The
 * same bytes read as Latin-1 also give clean text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t n = 0, n2 = 0;
    char *out = text_sanitize(in, size, &n);

    if (out == NULL)
        abort();
    if (out[n] != '\0' || strlen(out) != n || n > 3 * size || !text_is_clean(out, n))
        abort();
    if (text_is_clean(in, size) && (n != size || memcmp(out, in, size) != 0))
        abort();

    char *again = text_sanitize(out, n, &n2);
    if (again == NULL || n2 != n || memcmp(again, out, n) != 0)
        abort();
    free(again);
    free(out);

    out = text_from_latin1(in, size, &n);
    if (out == NULL || out[n] != '\0' || n > 2 * size || !text_is_clean(out, n))
        abort();
    free(out);
    return 0;
}
