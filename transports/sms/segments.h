/* SMS segment counting (reference sheet §d.1-d.2): GSM 03.38 default
 * alphabet with its extension table, else UCS-2 (UTF-16 code units).
 * Pure function, no allocation. */
#ifndef FERRY_SMS_SEGMENTS_H
#define FERRY_SMS_SEGMENTS_H

#include <stddef.h>

#define SMS_GSM_SINGLE 160
#define SMS_GSM_PART 153
#define SMS_UCS2_SINGLE 70
#define SMS_UCS2_PART 67

struct sms_segments {
    int unicode;  /* 1: UCS-2 (some character is not in GSM-7); 0: GSM-7 */
    int units;    /* GSM-7 septets (extension characters count 2) or UTF-16 units */
    int parts;    /* SMS parts needed; 0 for empty text */
    int per_part; /* capacity of each part as sent: 160/70 for a single
                     part (or empty text), 153/67 when concatenated */
};

/* Counts utf8[0..len-1] (NUL bytes are characters like any other).  Parts
 * are packed greedily: a part never ends between an ESC and its extension
 * code nor between the halves of a surrogate pair, so the count can exceed
 * ceil(units / per_part).  Returns 0, or -1 on invalid UTF-8 (overlong
 * forms, surrogates, > U+10FFFF, truncated sequences), on NULL with len > 0
 * or on absurd lengths; *out is zeroed on failure. */
int sms_count_segments(const char *utf8, size_t len, struct sms_segments *out);

#endif
