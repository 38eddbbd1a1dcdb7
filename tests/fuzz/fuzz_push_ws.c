/* fuzz_push_ws.c — libFuzzer target for the WebSocket frame decoder (mi_push_ws.c).
 *
 * The first byte picks the message bound (1..249 bytes) and the size of the reads the
 * bytes arrive in (1..8, or all at once), as a connection would deliver them; the rest is
 * what the client sent.  Invariants:
 *
 *   - decoding never reads outside what was fed, and never stalls: every call either
 *     decodes something or says MORE, and all input is taken once the decoder ends;
 *   - a MESSAGE is at most the bound, valid UTF-8, NUL-terminated; PING and PONG carry at
 *     most 125 bytes;
 *   - FAIL carries a code a server may close with (1002, 1003, 1007, 1009) and a reason
 *     that fits a close frame; CLOSE and FAIL are final: the decoder repeats them;
 *   - the same bytes decode to the same events however they are split into reads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>

#include "harness.h"
#include "mi_json.h"
#include "mi_push_ws.h"

const char fuzz_target[] = "fuzz_push_ws";

apr_status_t fuzz_setup(apr_pool_t *root)
{
    (void)root;
    return APR_SUCCESS;
}

/* A digest of the events: kind, length and a hash of the payload, for comparing runs. */
typedef struct {
    unsigned long h;
    int n;
} trace_t;

static void note(trace_t *t, const mi_push_ws_frame_t *f)
{
    apr_size_t i;

    t->h = t->h * 31 + (unsigned long)f->event;
    t->h = t->h * 31 + (unsigned long)f->len;
    t->h = t->h * 31 + (unsigned long)f->code;
    for (i = 0; i < f->len; i++) {
        t->h = t->h * 31 + (unsigned char)f->data[i];
    }
    t->n++;
}

/* Decode @in[0..n) arriving in reads of @step bytes (0: all at once). */
static trace_t run(const uint8_t *in, size_t n, apr_size_t max, size_t step, apr_pool_t *p)
{
    mi_push_ws_decoder_t *d;
    mi_push_ws_frame_t f;
    trace_t t = { 0, 0 };
    size_t off = 0;
    int guard = 0;

    CHECK(mi_push_ws_decoder_create(&d, max, p) == APR_SUCCESS);
    for (;;) {
        char *buf;
        apr_size_t room, take;

        mi_push_ws_next(d, &f);
        if (f.event == MI_PUSH_WS_MORE) {
            if (off == n) {
                break;
            }
            mi_push_ws_space(d, &buf, &room);
            CHECK(room > 0);
            take = step == 0 ? n - off : (step < n - off ? step : n - off);
            if (take > room) {
                take = room;
            }
            /* each read in a buffer of its own size, so ASan sees any read past it */
            {
                uint8_t *copy = malloc(take);
                memcpy(copy, in + off, take);
                memcpy(buf, copy, take);
                free(copy);
            }
            mi_push_ws_filled(d, take);
            off += take;
            continue;
        }
        note(&t, &f);
        CHECK(++guard < 100000);
        switch (f.event) {
        case MI_PUSH_WS_MESSAGE:
            CHECK(f.len <= max);
            CHECK(f.data[f.len] == '\0');
            CHECK(mi_utf8_check(f.data, f.len) == f.len);
            break;
        case MI_PUSH_WS_PING:
        case MI_PUSH_WS_PONG:
            CHECK(f.len <= MI_PUSH_WS_CONTROL_MAX);
            break;
        case MI_PUSH_WS_CLOSE:
        case MI_PUSH_WS_FAIL: {
            mi_push_ws_frame_t again;
            apr_size_t plen;

            if (f.event == MI_PUSH_WS_FAIL) {
                CHECK(f.code == MI_PUSH_WS_CLOSE_PROTOCOL || f.code == MI_PUSH_WS_CLOSE_UNSUPPORTED
                      || f.code == MI_PUSH_WS_CLOSE_INVALID || f.code == MI_PUSH_WS_CLOSE_TOO_BIG);
                CHECK(f.reason != NULL);
                mi_push_ws_close_payload(f.code, f.reason, p, &plen);
                CHECK(plen <= MI_PUSH_WS_CONTROL_MAX);
            }
            mi_push_ws_next(d, &again);
            CHECK(again.event == f.event && again.code == f.code);
            return t;
        }
        default:
            CHECK(0);
        }
    }
    return t;
}

int fuzz_one(const uint8_t *data, size_t size, apr_pool_t *p)
{
    apr_size_t max;
    size_t step;
    trace_t whole, split;

    if (size < 1) {
        return -1;
    }
    max = (apr_size_t)(data[0] & 0x1F) * 8 + 1;
    step = (size_t)(data[0] >> 5) + 1;
    whole = run(data + 1, size - 1, max, 0, p);
    split = run(data + 1, size - 1, max, step, p);
    CHECK(whole.n == split.n && whole.h == split.h);
    return 0;
}
