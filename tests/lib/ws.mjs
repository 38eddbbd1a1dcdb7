// ws.mjs — a raw WebSocket client for tests of the push channel's websocket transport: the
// upgrade by hand, frames written byte by byte (masked or not, fragmented, reserved bits),
// and every frame the server sends parsed and kept, so tests can check what RFC 6455 says
// the server must answer.
import http from 'node:http';
import crypto from 'node:crypto';

/** The frame @op carrying @payload, as a client writes it: masked unless {mask: false};
 *  {fin, rsv, len} override the header's fields (len: the length announced). */
export function frame(op, payload = Buffer.alloc(0), { mask = true, fin = true, rsv = 0, len } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = len === undefined ? data.length : len;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | op), 0];
  if (n < 126) head[1] = n;
  else if (n <= 0xffff) { head[1] = 126; head.push(n >> 8, n & 0xff); }
  else {
    head[1] = 127;
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    head.push(...b);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(data.map((c, i) => c ^ key[i & 3]));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };

/**
 * Ask for an upgrade of @url (GET, the WebSocket headers, then @headers):
 * -> {status, headers, body} when refused, or {status: 101, headers, ws} where ws is
 * {frames, send(buf), text(obj), next(ms), message(ms), closed, end()}: frames are the
 * server's ({fin, op, payload}); next() waits for the next one; message() for the next
 * text frame, parsed; closed resolves when the server ends the TCP connection.
 */
export function upgrade(url, headers = {}) {
  const key = crypto.randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key, ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('upgrade', (res, socket, head) => {
      const expect = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      resolve({ status: res.statusCode, headers: res.headers, accepted: res.headers['sec-websocket-accept'] === expect,
        ws: wrap(socket, head) });
    });
    req.on('error', reject);
    req.end();
  });
}

function wrap(socket, head) {
  let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  const frames = [];
  let seen = 0;
  const waiters = [];
  let endResolve;
  const closed = new Promise((r) => { endResolve = r; });
  const parse = () => {
    for (;;) {
      if (buf.length < 2) return;
      let n = buf[1] & 0x7f, off = 2;
      if (n === 126) { if (buf.length < 4) return; n = buf.readUInt16BE(2); off = 4; }
      else if (n === 127) { if (buf.length < 10) return; n = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf[1] & 0x80) throw new Error('the server masked a frame');
      if (buf.length < off + n) return;
      frames.push({ fin: (buf[0] & 0x80) !== 0, rsv: (buf[0] >> 4) & 7, op: buf[0] & 0x0f,
        payload: buf.subarray(off, off + n) });
      buf = buf.subarray(off + n);
      while (waiters.length) waiters.shift()();
    }
  };
  socket.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
  socket.on('end', () => { endResolve(true); while (waiters.length) waiters.shift()(); });
  socket.on('close', () => { endResolve(true); while (waiters.length) waiters.shift()(); });
  socket.on('error', () => {});
  parse();
  const ws = {
    frames,
    closed,
    send(b) { socket.write(b); },
    text(obj) { socket.write(frame(OP.TEXT, JSON.stringify(obj))); },
    /** The server's next frame (after those already taken), or null when the connection
     *  ended first; throws after @ms. */
    async next(ms = 10000) {
      const until = Date.now() + ms;
      while (seen >= frames.length) {
        if (socket.destroyed || socket.readableEnded) return null;
        const left = until - Date.now();
        if (left <= 0) throw new Error(`no frame within ${ms} ms`);
        await new Promise((r) => { const t = setTimeout(r, left); waiters.push(() => { clearTimeout(t); r(); }); });
      }
      return frames[seen++];
    },
    /** The next text frame's JSON (control frames before it are skipped). */
    async message(ms = 10000) {
      for (;;) {
        const f = await ws.next(ms);
        if (f === null) throw new Error('the connection ended');
        if (f.op === OP.TEXT) return JSON.parse(f.payload.toString('utf8'));
        if (f.op === OP.CLOSE) throw new Error(`closed ${f.payload.readUInt16BE(0)}: ${f.payload.subarray(2)}`);
      }
    },
    /** The next frame, which must be a close: {code, reason}. */
    async closeFrame(ms = 10000) {
      for (;;) {
        const f = await ws.next(ms);
        if (f === null) return null;
        if (f.op === OP.CLOSE) {
          return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null,
            reason: f.payload.subarray(2).toString('utf8') };
        }
      }
    },
    end() { socket.destroy(); },
  };
  return ws;
}
