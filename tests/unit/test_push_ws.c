/* test_push_ws.c — the WebSocket codec: the opening handshake's checks, and every frame a client
 * may and may not send, fed whole and a byte at a time. */
#include <string.h>

#include <apr_strings.h>

#include "mi_push_ws.h"
#include "unit.h"

#define MAX_MSG 64

/* A masked client frame: @b0 (FIN, RSV, opcode), @payload[0..len), the length in the form
 * @form (0 shortest, 126 or 127 forced) and masked when @masked. */
static apr_size_t frame(unsigned char *out, int b0, const char *payload, apr_size_t len,
                        int form, int masked)
{
    static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    apr_size_t n = 0, i;

    out[n++] = (unsigned char)b0;
    if (form == 0 && len < 126) {
        out[n++] = (unsigned char)((masked ? 0x80 : 0) | len);
    }
    else if (form == 126 || (form == 0 && len <= 0xFFFF)) {
        out[n++] = (unsigned char)((masked ? 0x80 : 0) | 126);
        out[n++] = (unsigned char)(len >> 8);
        out[n++] = (unsigned char)len;
    }
    else {
        out[n++] = (unsigned char)((masked ? 0x80 : 0) | 127);
        for (i = 0; i < 8; i++) {
            out[n++] = (unsigned char)((apr_uint64_t)len >> (56 - 8 * i));
        }
    }
    if (masked) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    for (i = 0; i < len; i++) {
        out[n + i] = (unsigned char)(payload[i] ^ (masked ? mask[i & 3] : 0));
    }
    return n + len;
}

static mi_push_ws_decoder_t *decoder(void)
{
    mi_push_ws_decoder_t *d;

    CU_ASSERT_EQUAL_FATAL(mi_push_ws_decoder_create(&d, MAX_MSG, tp), APR_SUCCESS);
    return d;
}

static void feed(mi_push_ws_decoder_t *d, const unsigned char *bytes, apr_size_t n)
{
    char *buf;
    apr_size_t room;

    mi_push_ws_space(d, &buf, &room);
    CU_ASSERT_FATAL(room >= n);
    memcpy(buf, bytes, n);
    mi_push_ws_filled(d, n);
}

/* Feed @bytes whole and expect one event @ev. */
static mi_push_ws_frame_t one(const unsigned char *bytes, apr_size_t n, mi_push_ws_event_e ev)
{
    mi_push_ws_decoder_t *d = decoder();
    mi_push_ws_frame_t f;

    feed(d, bytes, n);
    mi_push_ws_next(d, &f);
    CU_ASSERT_EQUAL(f.event, ev);
    return f;
}

static void handshake_helpers(void)
{
    /* RFC 6455 1.3's example */
    CU_ASSERT_STRING_EQUAL(mi_push_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", tp),
                           "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CU_ASSERT_TRUE(mi_push_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
    CU_ASSERT_FALSE(mi_push_ws_key_valid(NULL));
    CU_ASSERT_FALSE(mi_push_ws_key_valid(""));
    CU_ASSERT_FALSE(mi_push_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ"));       /* no padding */
    CU_ASSERT_FALSE(mi_push_ws_key_valid("dGhlIHNhbXBsZSBub25jZR=="));     /* bits beyond 16 bytes */
    CU_ASSERT_FALSE(mi_push_ws_key_valid("dGhlIHNhbXBsZSBub25j*Q=="));     /* not base64 */
    CU_ASSERT_FALSE(mi_push_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==x"));
    CU_ASSERT_TRUE(mi_push_ws_has_token("Upgrade", "upgrade"));
    CU_ASSERT_TRUE(mi_push_ws_has_token("keep-alive, Upgrade", "upgrade"));
    CU_ASSERT_TRUE(mi_push_ws_has_token(" upgrade ,close", "Upgrade"));
    CU_ASSERT_FALSE(mi_push_ws_has_token("Upgraded", "upgrade"));
    CU_ASSERT_FALSE(mi_push_ws_has_token("keep-alive", "upgrade"));
    CU_ASSERT_FALSE(mi_push_ws_has_token("", "upgrade"));
}

static void text_whole_and_byte_by_byte(void)
{
    unsigned char buf[256];
    const char *msg = "[{\"channel\":\"/meta/connect\"}]";
    apr_size_t n = frame(buf, 0x81, msg, strlen(msg), 0, 1), i;
    mi_push_ws_decoder_t *d = decoder();
    mi_push_ws_frame_t f = one(buf, n, MI_PUSH_WS_MESSAGE);

    CU_ASSERT_EQUAL(f.len, strlen(msg));
    CU_ASSERT_NSTRING_EQUAL(f.data, msg, f.len);
    for (i = 0; i < n; i++) {
        feed(d, buf + i, 1);
        mi_push_ws_next(d, &f);
        CU_ASSERT_EQUAL(f.event, i + 1 < n ? MI_PUSH_WS_MORE : MI_PUSH_WS_MESSAGE);
    }
    CU_ASSERT_NSTRING_EQUAL(f.data, msg, f.len);
    mi_push_ws_next(d, &f);
    CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_MORE);
}

static void fragments_with_a_ping_between(void)
{
    unsigned char buf[256];
    apr_size_t n = 0;
    mi_push_ws_decoder_t *d = decoder();
    mi_push_ws_frame_t f;

    n += frame(buf + n, 0x01, "[{\"a\":", 6, 0, 1);
    n += frame(buf + n, 0x89, "hi", 2, 0, 1);
    n += frame(buf + n, 0x00, "1}", 2, 0, 1);
    n += frame(buf + n, 0x80, "]", 1, 0, 1);
    n += frame(buf + n, 0x8A, "", 0, 0, 1);
    feed(d, buf, n);
    mi_push_ws_next(d, &f);
    CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_PING);
    CU_ASSERT_EQUAL(f.len, 2);
    CU_ASSERT_NSTRING_EQUAL(f.data, "hi", 2);
    mi_push_ws_next(d, &f);
    CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_MESSAGE);
    CU_ASSERT_EQUAL(f.len, 9);
    CU_ASSERT_NSTRING_EQUAL(f.data, "[{\"a\":1}]", 9);
    mi_push_ws_next(d, &f);
    CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_PONG);
    mi_push_ws_next(d, &f);
    CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_MORE);
}

static void message_size_is_bounded_over_all_fragments(void)
{
    unsigned char buf[512];
    char big[MAX_MSG + 1];
    apr_size_t n;
    mi_push_ws_frame_t f;

    memset(big, 'x', sizeof(big));
    /* exactly the bound passes */
    n = frame(buf, 0x81, big, MAX_MSG, 0, 1);
    f = one(buf, n, MI_PUSH_WS_MESSAGE);
    CU_ASSERT_EQUAL(f.len, MAX_MSG);
    /* one more byte, in one frame or over two, is refused at the header */
    n = frame(buf, 0x81, big, MAX_MSG + 1, 0, 1);
    f = one(buf, 6, MI_PUSH_WS_FAIL);
    CU_ASSERT_EQUAL(f.code, MI_PUSH_WS_CLOSE_TOO_BIG);
    n = frame(buf, 0x01, big, MAX_MSG, 0, 1);
    n += frame(buf + n, 0x80, "x", 1, 0, 1);
    f = one(buf, n, MI_PUSH_WS_FAIL);
    CU_ASSERT_EQUAL(f.code, MI_PUSH_WS_CLOSE_TOO_BIG);
    /* a 64-bit length far beyond, without its payload */
    n = frame(buf, 0x81, big, 0, 127, 1);
    buf[2] = 0x7f;
    f = one(buf, 14, MI_PUSH_WS_FAIL);
    CU_ASSERT_EQUAL(f.code, MI_PUSH_WS_CLOSE_TOO_BIG);
}

static void protocol_errors(void)
{
    unsigned char buf[512];
    char big[200];
    apr_size_t n;
    mi_push_ws_frame_t f;

    memset(big, 'x', sizeof(big));
    /* unmasked */
    n = frame(buf, 0x81, "[]", 2, 0, 0);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    /* reserved bits, reserved opcodes */
    n = frame(buf, 0xC1, "[]", 2, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x83, "[]", 2, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x8B, "", 0, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    /* binary: not Bayeux */
    n = frame(buf, 0x82, "[]", 2, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_UNSUPPORTED);
    /* continuation first; a new message inside a fragmented one */
    n = frame(buf, 0x80, "[]", 2, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x01, "[", 1, 0, 1);
    n += frame(buf + n, 0x81, "]", 1, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    /* control frames: fragmented, too long */
    n = frame(buf, 0x09, "", 0, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x89, big, 126, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    /* lengths not in their shortest form */
    n = frame(buf, 0x81, "[]", 2, 126, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x81, big, 40, 127, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    /* the top bit of a 64-bit length */
    n = frame(buf, 0x81, big, 0, 127, 1);
    buf[2] = 0x80;
    CU_ASSERT_EQUAL(one(buf, 14, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    /* after a failure nothing more is decoded */
    {
        mi_push_ws_decoder_t *d = decoder();
        n = frame(buf, 0x81, "[]", 2, 0, 0);
        n += frame(buf + n, 0x81, "[]", 2, 0, 1);
        feed(d, buf, n);
        mi_push_ws_next(d, &f);
        CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_FAIL);
        mi_push_ws_next(d, &f);
        CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_FAIL);
    }
}

static void utf8_is_checked(void)
{
    unsigned char buf[64];
    apr_size_t n;

    n = frame(buf, 0x81, "\"\xc3\xa9\"", 4, 0, 1);
    one(buf, n, MI_PUSH_WS_MESSAGE);
    /* invalid, overlong, a surrogate, cut in the middle (the message ends there) */
    n = frame(buf, 0x81, "\xff", 1, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_INVALID);
    n = frame(buf, 0x81, "\xc0\xaf", 2, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_INVALID);
    n = frame(buf, 0x81, "\xed\xa0\x80", 3, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_INVALID);
    n = frame(buf, 0x81, "\xc3", 1, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_INVALID);
    /* a character split over two fragments is whole in the message */
    n = frame(buf, 0x01, "\xc3", 1, 0, 1);
    n += frame(buf + n, 0x80, "\xa9", 1, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_MESSAGE).len, 2);
}

static void close_frames(void)
{
    unsigned char buf[64];
    apr_size_t n;
    mi_push_ws_frame_t f;

    n = frame(buf, 0x88, "", 0, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_CLOSE).code, MI_PUSH_WS_CLOSE_NO_STATUS);
    n = frame(buf, 0x88, "\x03\xe8" "bye", 5, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_CLOSE).code, 1000);
    n = frame(buf, 0x88, "\x0f\xa0", 2, 0, 1);      /* 4000: private use */
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_CLOSE).code, 4000);
    n = frame(buf, 0x88, "\x03", 1, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x88, "\x03\xed", 2, 0, 1);       /* 1005 may not be sent */
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x88, "\x03\xe7", 2, 0, 1);       /* 999 */
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_PROTOCOL);
    n = frame(buf, 0x88, "\x03\xe8\xff", 3, 0, 1);
    CU_ASSERT_EQUAL(one(buf, n, MI_PUSH_WS_FAIL).code, MI_PUSH_WS_CLOSE_INVALID);
    /* after a close, nothing more */
    {
        mi_push_ws_decoder_t *d = decoder();
        n = frame(buf, 0x88, "", 0, 0, 1);
        n += frame(buf + n, 0x81, "[]", 2, 0, 1);
        feed(d, buf, n);
        mi_push_ws_next(d, &f);
        CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_CLOSE);
        mi_push_ws_next(d, &f);
        CU_ASSERT_EQUAL(f.event, MI_PUSH_WS_CLOSE);
    }
}

static void server_frames(void)
{
    unsigned char hdr[MI_PUSH_WS_HEADER_MAX];
    const char *p;
    apr_size_t len;
    char reason[300];

    CU_ASSERT_EQUAL(mi_push_ws_header(hdr, MI_PUSH_WS_OP_TEXT, 5), 2);
    CU_ASSERT_EQUAL(hdr[0], 0x81);
    CU_ASSERT_EQUAL(hdr[1], 5);
    CU_ASSERT_EQUAL(mi_push_ws_header(hdr, MI_PUSH_WS_OP_TEXT, 126), 4);
    CU_ASSERT_EQUAL(hdr[1], 126);
    CU_ASSERT_EQUAL(hdr[2], 0);
    CU_ASSERT_EQUAL(hdr[3], 126);
    CU_ASSERT_EQUAL(mi_push_ws_header(hdr, MI_PUSH_WS_OP_TEXT, 70000), 10);
    CU_ASSERT_EQUAL(hdr[1], 127);
    CU_ASSERT_EQUAL(hdr[7], 0x01);
    CU_ASSERT_EQUAL(hdr[8], 0x11);
    CU_ASSERT_EQUAL(hdr[9], 0x70);
    CU_ASSERT_EQUAL(mi_push_ws_header(hdr, MI_PUSH_WS_OP_CLOSE, 0), 2);
    CU_ASSERT_EQUAL(hdr[0], 0x88);

    p = mi_push_ws_close_payload(1009, "message too large", tp, &len);
    CU_ASSERT_EQUAL(len, 19);
    CU_ASSERT_EQUAL((unsigned char)p[0], 0x03);
    CU_ASSERT_EQUAL((unsigned char)p[1], 0xf1);
    /* a long reason is cut to fit a control frame, never inside a character */
    memset(reason, 'a', sizeof(reason));
    reason[122] = '\xc3';
    reason[123] = '\xa9';
    reason[299] = '\0';
    mi_push_ws_close_payload(1000, reason, tp, &len);
    CU_ASSERT_EQUAL(len, 124);
}

void add_push_ws_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(handshake_helpers),
        UNIT_TEST(text_whole_and_byte_by_byte),
        UNIT_TEST(fragments_with_a_ping_between),
        UNIT_TEST(message_size_is_bounded_over_all_fragments),
        UNIT_TEST(protocol_errors),
        UNIT_TEST(utf8_is_checked),
        UNIT_TEST(close_frames),
        UNIT_TEST(server_frames),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("push_ws", tests);
}
