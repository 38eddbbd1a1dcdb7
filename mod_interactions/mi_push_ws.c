/* mi_push_ws.c — see mi_push_ws.h */
#include <string.h>
#include <strings.h>

#include <apr_base64.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include "mi_json.h"
#include "mi_push_ws.h"

/* the GUID of RFC 6455, 1.3 */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Bytes read from the client waiting to be decoded.  Payloads are copied out as they
 * arrive, so only a frame's header (at most 14 bytes) ever has to wait here whole; the
 * size only sets how much one read takes. */
#define WS_IN_MAX 16384

/* ------------------------------------------------------------------ the opening handshake */

int mi_push_ws_has_token(const char *value, const char *token)
{
    apr_size_t tlen = strlen(token);
    const char *s = value, *e;

    if (s == NULL) {
        return 0;
    }
    while (*s != '\0') {
        while (*s == ' ' || *s == '\t' || *s == ',') {
            s++;
        }
        e = s;
        while (*e != '\0' && *e != ',') {
            e++;
        }
        /* [s, e) is one element; its trailing blanks are not part of it */
        {
            const char *t = e;
            while (t > s && (t[-1] == ' ' || t[-1] == '\t')) {
                t--;
            }
            if ((apr_size_t)(t - s) == tlen && strncasecmp(s, token, tlen) == 0) {
                return 1;
            }
        }
        s = e;
    }
    return 0;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int mi_push_ws_key_valid(const char *key)
{
    int i, v;

    /* 16 bytes are 22 characters and "==", the last character carrying 2 bits (4 zero) */
    if (key == NULL || strlen(key) != 24 || key[22] != '=' || key[23] != '=') {
        return 0;
    }
    for (i = 0; i < 22; i++) {
        if ((v = b64_value(key[i])) < 0) {
            return 0;
        }
    }
    return (v & 0x0F) == 0;
}

const char *mi_push_ws_accept(const char *key, apr_pool_t *p)
{
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t sha1;
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len(APR_SHA1_DIGESTSIZE));

    apr_sha1_init(&sha1);
    apr_sha1_update(&sha1, key, (unsigned int)strlen(key));
    apr_sha1_update(&sha1, WS_GUID, (unsigned int)strlen(WS_GUID));
    apr_sha1_final(digest, &sha1);
    apr_base64_encode_binary(out, digest, APR_SHA1_DIGESTSIZE);
    return out;
}

/* ------------------------------------------------------------------ decoding */

struct mi_push_ws_decoder_t {
    char *in;               /* bytes read, [in_start, in_end) not decoded yet */
    apr_size_t in_start, in_end;
    char *msg;              /* the data message being put together (NUL-terminated) */
    apr_size_t msg_len, msg_max;
    char ctl[MI_PUSH_WS_CONTROL_MAX + 1];
    apr_size_t ctl_len;
    int in_message;         /* a fragmented message has begun */
    int msg_given;          /* the last event was MESSAGE: start a new one */
    /* the frame being read */
    int have_header;
    int fin, opcode;
    apr_uint64_t remaining;
    unsigned char mask[4];
    unsigned mask_pos;
    /* CLOSE or FAIL: the end */
    int done;
    mi_push_ws_frame_t last;
};

apr_status_t mi_push_ws_decoder_create(mi_push_ws_decoder_t **pd, apr_size_t max_message, apr_pool_t *p)
{
    mi_push_ws_decoder_t *d = apr_pcalloc(p, sizeof(*d));

    d->in = apr_palloc(p, WS_IN_MAX);
    d->msg_max = max_message;
    d->msg = apr_palloc(p, max_message + 1);
    *pd = d;
    return APR_SUCCESS;
}

void mi_push_ws_space(mi_push_ws_decoder_t *d, char **pbuf, apr_size_t *plen)
{
    if (d->in_start > 0) {
        memmove(d->in, d->in + d->in_start, d->in_end - d->in_start);
        d->in_end -= d->in_start;
        d->in_start = 0;
    }
    *pbuf = d->in + d->in_end;
    *plen = WS_IN_MAX - d->in_end;
}

void mi_push_ws_filled(mi_push_ws_decoder_t *d, apr_size_t n)
{
    d->in_end += n;
}

apr_size_t mi_push_ws_pending(const mi_push_ws_decoder_t *d)
{
    return d->in_end - d->in_start + (d->have_header || d->in_message ? 1 : 0);
}

static void finish(mi_push_ws_decoder_t *d, mi_push_ws_frame_t *f, mi_push_ws_event_e ev, int code,
                   const char *reason)
{
    memset(&d->last, 0, sizeof(d->last));
    d->last.event = ev;
    d->last.code = code;
    d->last.reason = reason;
    d->done = 1;
    *f = d->last;
}

/* May a client send close code @code (RFC 6455 7.4.1 and the IANA registry)? */
static int close_code_ok(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
           || (code >= 3000 && code <= 4999);
}

/* Read a frame header at d->in + in_start if complete: 1 read, 0 more bytes needed, -1
 * refused (*f filled). */
static int read_header(mi_push_ws_decoder_t *d, mi_push_ws_frame_t *f)
{
    const unsigned char *b = (const unsigned char *)d->in + d->in_start;
    apr_size_t avail = d->in_end - d->in_start, need;
    apr_uint64_t len;
    int fin, op, len7, i;

    if (avail < 2) {
        return 0;
    }
    fin = (b[0] & 0x80) != 0;
    op = b[0] & 0x0F;
    len7 = b[1] & 0x7F;
    /* everything that a header's first two bytes already refuse, before waiting for more */
    if (b[0] & 0x70) {
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "reserved bits set (no extension)");
        return -1;
    }
    if (!(b[1] & 0x80)) {
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "a client frame must be masked");
        return -1;
    }
    switch (op) {
    case MI_PUSH_WS_OP_CONT:
        if (!d->in_message) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "continuation without a message");
            return -1;
        }
        break;
    case MI_PUSH_WS_OP_TEXT:
        if (d->in_message) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "a new message inside a fragmented one");
            return -1;
        }
        break;
    case MI_PUSH_WS_OP_BINARY:
        if (d->in_message) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "a new message inside a fragmented one");
            return -1;
        }
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_UNSUPPORTED, "Bayeux messages are text");
        return -1;
    case MI_PUSH_WS_OP_CLOSE:
    case MI_PUSH_WS_OP_PING:
    case MI_PUSH_WS_OP_PONG:
        if (!fin || len7 > MI_PUSH_WS_CONTROL_MAX) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL,
                   "a control frame must be whole and at most 125 bytes");
            return -1;
        }
        break;
    default:
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "reserved opcode");
        return -1;
    }
    need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    if (avail < need) {
        return 0;
    }
    if (len7 == 126) {
        len = ((apr_uint64_t)b[2] << 8) | b[3];
        if (len < 126) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "length not in its shortest form");
            return -1;
        }
    }
    else if (len7 == 127) {
        if (b[2] & 0x80) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "length with its top bit set");
            return -1;
        }
        len = 0;
        for (i = 2; i < 10; i++) {
            len = (len << 8) | b[i];
        }
        if (len <= 0xFFFF) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "length not in its shortest form");
            return -1;
        }
    }
    else {
        len = (apr_uint64_t)len7;
    }
    if (op < MI_PUSH_WS_OP_CLOSE && len > (apr_uint64_t)(d->msg_max - d->msg_len)) {
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_TOO_BIG, "message too large");
        return -1;
    }
    memcpy(d->mask, b + need - 4, 4);
    d->in_start += need;
    d->have_header = 1;
    d->fin = fin;
    d->opcode = op;
    d->remaining = len;
    d->mask_pos = 0;
    if (op >= MI_PUSH_WS_OP_CLOSE) {
        d->ctl_len = 0;
    }
    else if (op == MI_PUSH_WS_OP_TEXT) {
        d->in_message = 1;
    }
    return 1;
}

/* The frame just read whole was a control frame: its event. */
static void control(mi_push_ws_decoder_t *d, mi_push_ws_frame_t *f)
{
    int code;

    d->ctl[d->ctl_len] = '\0';
    if (d->opcode == MI_PUSH_WS_OP_PING || d->opcode == MI_PUSH_WS_OP_PONG) {
        memset(f, 0, sizeof(*f));
        f->event = d->opcode == MI_PUSH_WS_OP_PING ? MI_PUSH_WS_PING : MI_PUSH_WS_PONG;
        f->data = d->ctl;
        f->len = d->ctl_len;
        return;
    }
    if (d->ctl_len == 0) {
        finish(d, f, MI_PUSH_WS_CLOSE, MI_PUSH_WS_CLOSE_NO_STATUS, NULL);
        return;
    }
    if (d->ctl_len == 1) {
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "a close payload of one byte");
        return;
    }
    code = ((unsigned char)d->ctl[0] << 8) | (unsigned char)d->ctl[1];
    if (!close_code_ok(code)) {
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_PROTOCOL, "a close code a client may not send");
        return;
    }
    if (d->ctl_len > 2 && mi_utf8_check(d->ctl + 2, d->ctl_len - 2) < d->ctl_len - 2) {
        finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_INVALID, "a close reason that is not UTF-8");
        return;
    }
    finish(d, f, MI_PUSH_WS_CLOSE, code, NULL);
}

void mi_push_ws_next(mi_push_ws_decoder_t *d, mi_push_ws_frame_t *f)
{
    apr_size_t avail, n, i;
    char *dst;
    int r;

    if (d->done) {
        *f = d->last;
        return;
    }
    if (d->msg_given) {
        d->msg_given = 0;
        d->msg_len = 0;
    }
    memset(f, 0, sizeof(*f));
    for (;;) {
        if (!d->have_header) {
            r = read_header(d, f);
            if (r <= 0) {
                if (r == 0) {
                    f->event = MI_PUSH_WS_MORE;
                }
                return;
            }
        }
        avail = d->in_end - d->in_start;
        n = d->remaining < (apr_uint64_t)avail ? (apr_size_t)d->remaining : avail;
        if (n > 0) {
            dst = d->opcode >= MI_PUSH_WS_OP_CLOSE ? d->ctl + d->ctl_len : d->msg + d->msg_len;
            for (i = 0; i < n; i++) {
                dst[i] = (char)(d->in[d->in_start + i] ^ d->mask[d->mask_pos++ & 3]);
            }
            d->in_start += n;
            d->remaining -= n;
            if (d->opcode >= MI_PUSH_WS_OP_CLOSE) {
                d->ctl_len += n;
            }
            else {
                d->msg_len += n;
            }
        }
        if (d->remaining > 0) {
            f->event = MI_PUSH_WS_MORE;
            return;
        }
        /* the frame is whole */
        d->have_header = 0;
        if (d->opcode >= MI_PUSH_WS_OP_CLOSE) {
            control(d, f);
            return;
        }
        if (!d->fin) {
            continue;
        }
        d->in_message = 0;
        d->msg[d->msg_len] = '\0';
        if (mi_utf8_check(d->msg, d->msg_len) < d->msg_len) {
            finish(d, f, MI_PUSH_WS_FAIL, MI_PUSH_WS_CLOSE_INVALID, "a text message that is not UTF-8");
            return;
        }
        d->msg_given = 1;
        f->event = MI_PUSH_WS_MESSAGE;
        f->data = d->msg;
        f->len = d->msg_len;
        return;
    }
}

/* ------------------------------------------------------------------ encoding */

apr_size_t mi_push_ws_header(unsigned char *hdr, int opcode, apr_uint64_t len)
{
    int i;

    hdr[0] = (unsigned char)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        hdr[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(len >> 8);
        hdr[3] = (unsigned char)len;
        return 4;
    }
    hdr[1] = 127;
    for (i = 0; i < 8; i++) {
        hdr[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    }
    return 10;
}

const char *mi_push_ws_close_payload(int code, const char *reason, apr_pool_t *p, apr_size_t *plen)
{
    apr_size_t rlen = reason != NULL ? strlen(reason) : 0;
    char *out;

    if (rlen > MI_PUSH_WS_CONTROL_MAX - 2) {
        rlen = MI_PUSH_WS_CONTROL_MAX - 2;
        /* not in the middle of a character */
        while (rlen > 0 && ((unsigned char)reason[rlen] & 0xC0) == 0x80) {
            rlen--;
        }
    }
    out = apr_palloc(p, rlen + 3);
    out[0] = (char)((code >> 8) & 0xFF);
    out[1] = (char)(code & 0xFF);
    if (rlen > 0) {
        memcpy(out + 2, reason, rlen);
    }
    out[rlen + 2] = '\0';
    *plen = rlen + 2;
    return out;
}
