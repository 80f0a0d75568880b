/* Reassembly of long inbound messages that arrive in parts (Vonage sends
 * one webhook per part with concat-ref / concat-total / concat-part; the
 * other providers join them).  Every part is stored before its webhook is
 * answered, under "<instance>!concat", deduplicated by the provider's id;
 * when all parts of a reference are there, the joined message is delivered
 * once and the parts are removed.  A crash in between is harmless: the
 * joined message has its own dedupe key, and the check runs again on the
 * next part or provider retry. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sms.h"
#include "sms_util.h"
#include "store.h"

#define MAX_PARTS 999

struct parts {
    const char *ref, *from;
    int total;
    int64_t *seq; /* per part, 0 when missing */
    char **text;
};

static int collect(void *arg, const struct store_in *row)
{
    struct parts *p = arg;
    cJSON *j = cJSON_Parse(row->xml);
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(j, "ref");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(j, "from");
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(j, "total");
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(j, "part");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
    if (cJSON_IsString(ref) && cJSON_IsString(from) && cJSON_IsNumber(total) &&
        cJSON_IsNumber(part) && cJSON_IsString(text) && strcmp(ref->valuestring, p->ref) == 0 &&
        strcmp(from->valuestring, p->from) == 0 && total->valueint == p->total &&
        part->valueint >= 1 && part->valueint <= p->total && !p->seq[part->valueint - 1]) {
        p->seq[part->valueint - 1] = row->seq;
        p->text[part->valueint - 1] = strdup(text->valuestring);
    }
    cJSON_Delete(j);
    return 0;
}

int sms_concat_part(struct sms *s, const struct sms_event *ev, const char *from,
                    const struct sms_number *nb)
{
    struct store *st = s->core->store(s->ci);
    char inst[160], key[300];
    snprintf(inst, sizeof(inst), "%s!concat", s->name);
    if (!ev->concat_ref || ev->concat_total < 2 || ev->concat_total > MAX_PARTS ||
        ev->concat_part < 1 || ev->concat_part > ev->concat_total)
        return 0; /* the provider validated these; nothing usable */
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return FERRY_ENOMEM;
    cJSON_AddStringToObject(j, "ref", ev->concat_ref);
    cJSON_AddStringToObject(j, "from", from);
    cJSON_AddStringToObject(j, "to", nb->number);
    cJSON_AddNumberToObject(j, "total", ev->concat_total);
    cJSON_AddNumberToObject(j, "part", ev->concat_part);
    cJSON_AddStringToObject(j, "text", ev->text ? ev->text : "");
    char *row = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!row)
        return FERRY_ENOMEM;
    if (ev->msg_id)
        snprintf(key, sizeof(key), "part:%s", ev->msg_id);
    else
        snprintf(key, sizeof(key), "part:%s:%s:%d", from, ev->concat_ref, ev->concat_part);
    int rc = store_in_push(st, inst, key, row, NULL);
    free(row);
    if (rc != 0 && rc != FERRY_EEXIST)
        return rc;

    struct parts p = {ev->concat_ref, from, ev->concat_total, NULL, NULL};
    p.seq = calloc((size_t)p.total, sizeof(*p.seq));
    p.text = calloc((size_t)p.total, sizeof(*p.text));
    if (!p.seq || !p.text) {
        free(p.seq);
        free(p.text);
        return FERRY_ENOMEM;
    }
    rc = store_in_each(st, inst, 0, 0, collect, &p);
    int have = 0;
    for (int i = 0; i < p.total; i++)
        have += p.seq[i] != 0 && p.text[i] != NULL;
    if (rc == 0 && have == p.total) {
        struct sms_buf body = {0};
        for (int i = 0; i < p.total; i++)
            sms_buf_adds(&body, p.text[i]);
        size_t len = 0;
        char *text = sms_buf_take(&body, &len);
        snprintf(key, sizeof(key), "concat:%s:%s:%d", from, ev->concat_ref, p.total);
        struct tr_inbound in = {
            .user = nb->owner,
            .from_local = from,
            .body = text,
            .body_len = len,
            .type = TR_MSG_CHAT,
            .dedupe_key = key,
        };
        rc = text ? s->core->deliver(s->ci, &in) : FERRY_ENOMEM;
        free(text);
        if (rc == 0 || rc == FERRY_EEXIST) {
            rc = 0;
            for (int i = 0; i < p.total; i++)
                store_in_delete(st, inst, p.seq[i]);
            s->core->log(s->ci, 2, "message in %d parts joined and stored for delivery", p.total);
        }
    } else if (rc == 0) {
        s->core->log(s->ci, 3, "part %d of %d stored; waiting for the rest", ev->concat_part,
                     ev->concat_total);
    }
    for (int i = 0; i < p.total; i++)
        free(p.text[i]);
    free(p.text);
    free(p.seq);
    return rc;
}
