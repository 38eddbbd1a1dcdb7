/* mi_push_ws.h — WebSocket (RFC 6455) as the push channel's server speaks it: the opening
 * handshake's checks and answer, a strict incremental decoder of client frames, and the
 * frames the server sends.  No I/O: the glue (mod_interactions_push_ws.c) reads bytes through
 * the connection's filters into the decoder and writes what the encoder makes.
 *
 * Frames are client input like any request body, and the decoder refuses everything RFC
 * 6455 does not allow a client, with the close code the RFC names:
 *
 *   1002 protocol error   an unmasked frame, reserved bits or opcodes, a control frame
 *                         fragmented or longer than 125 bytes, a continuation with no
 *                         message begun or a new message inside one, a length not in its
 *                         shortest form or with the top bit set, a close payload of one
 *                         byte or with a code a peer may not send
 *   1003 unsupported      a binary message (Bayeux messages are JSON text)
 *   1007 invalid data     a text message or close reason that is not UTF-8
 *   1009 too big          a message (all its fragments together) above the bound
 *
 * and after such a frame, or a close, it decodes nothing more.
 */
#ifndef MI_PUSH_WS_H
#define MI_PUSH_WS_H

#include <apr_pools.h>

/* Close codes (RFC 6455, 7.4.1). */
#define MI_PUSH_WS_CLOSE_NORMAL      1000
#define MI_PUSH_WS_CLOSE_GOING_AWAY  1001
#define MI_PUSH_WS_CLOSE_PROTOCOL    1002
#define MI_PUSH_WS_CLOSE_UNSUPPORTED 1003
#define MI_PUSH_WS_CLOSE_NO_STATUS   1005 /* a close frame without a code (never sent) */
#define MI_PUSH_WS_CLOSE_INVALID     1007
#define MI_PUSH_WS_CLOSE_POLICY      1008
#define MI_PUSH_WS_CLOSE_TOO_BIG     1009
#define MI_PUSH_WS_CLOSE_ERROR       1011
#define MI_PUSH_WS_CLOSE_AGAIN       1013 /* try again later */

/* Opcodes. */
#define MI_PUSH_WS_OP_CONT   0x0
#define MI_PUSH_WS_OP_TEXT   0x1
#define MI_PUSH_WS_OP_BINARY 0x2
#define MI_PUSH_WS_OP_CLOSE  0x8
#define MI_PUSH_WS_OP_PING   0x9
#define MI_PUSH_WS_OP_PONG   0xA

/* The longest control frame payload, and the longest frame header the server writes. */
#define MI_PUSH_WS_CONTROL_MAX 125
#define MI_PUSH_WS_HEADER_MAX  10

/* ------------------------------------------------------------------ the opening handshake */

/** Is @value (a header's, e.g. Connection) a comma-separated list holding @token, compared
 *  without regard to case? */
int mi_push_ws_has_token(const char *value, const char *token);

/** Is @key a Sec-WebSocket-Key: the base64 of 16 bytes (24 characters)? */
int mi_push_ws_key_valid(const char *key);

/** The Sec-WebSocket-Accept answering @key: base64(SHA-1(key + the RFC's GUID)). */
const char *mi_push_ws_accept(const char *key, apr_pool_t *p);

/* ------------------------------------------------------------------ decoding */

typedef struct mi_push_ws_decoder_t mi_push_ws_decoder_t;

typedef enum {
    MI_PUSH_WS_MORE = 0,  /* nothing complete yet: feed more bytes */
    MI_PUSH_WS_MESSAGE,   /* a whole text message */
    MI_PUSH_WS_PING,      /* answer with a pong carrying the same payload */
    MI_PUSH_WS_PONG,      /* nothing to do */
    MI_PUSH_WS_CLOSE,     /* the client closes: answer with a close frame, then close */
    MI_PUSH_WS_FAIL       /* the client broke the protocol: send a close with the code, close */
} mi_push_ws_event_e;

typedef struct {
    mi_push_ws_event_e event;
    const char *data;   /* MESSAGE, PING, PONG: the payload, valid until the next call */
    apr_size_t len;
    int code;           /* CLOSE: the client's code (MI_PUSH_WS_CLOSE_NO_STATUS without one);
                           FAIL: the code to close with */
    const char *reason; /* FAIL: why, for the log and the close frame (ASCII, short) */
} mi_push_ws_frame_t;

/** A decoder for messages of at most @max_message bytes (all fragments together), its
 *  buffers allocated in @p once. */
apr_status_t mi_push_ws_decoder_create(mi_push_ws_decoder_t **pd, apr_size_t max_message,
                                  apr_pool_t *p);

/** Where the next bytes read from the client go: *pbuf, room for *plen (0: call
 *  mi_push_ws_next() first, which makes room). */
void mi_push_ws_space(mi_push_ws_decoder_t *d, char **pbuf, apr_size_t *plen);

/** @n bytes were written at mi_push_ws_space()'s buffer. */
void mi_push_ws_filled(mi_push_ws_decoder_t *d, apr_size_t n);

/** Decode what the bytes fed so far complete: the next event (MORE when none).  After
 *  CLOSE or FAIL every call returns that event again. */
void mi_push_ws_next(mi_push_ws_decoder_t *d, mi_push_ws_frame_t *f);

/** Bytes fed and not decoded yet (a frame begun). */
apr_size_t mi_push_ws_pending(const mi_push_ws_decoder_t *d);

/* ------------------------------------------------------------------ encoding */

/** Write the header of a final, unmasked server frame of @opcode carrying @len bytes into
 *  @hdr (MI_PUSH_WS_HEADER_MAX bytes); returns its length. */
apr_size_t mi_push_ws_header(unsigned char *hdr, int opcode, apr_uint64_t len);

/** The payload of a close frame: @code, then @reason cut to what fits in a control frame
 *  (at a character boundary).  *plen its length; allocated in @p. */
const char *mi_push_ws_close_payload(int code, const char *reason, apr_pool_t *p, apr_size_t *plen);

#endif
