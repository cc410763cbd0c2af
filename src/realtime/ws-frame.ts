import type { Socket } from 'net';
import { WebSocket } from 'ws';

/**
 * Broadcast framing: a frame that goes to many sockets is framed ONCE (WebSocket header + payload
 * in one buffer, `ws`'s own `Sender.frame`, made public for exactly this) and that buffer is written
 * to each socket — one write per recipient instead of ws re-framing the payload and writing header
 * and payload separately every time.
 *
 * Writing to the socket directly is only in order with ws's own sends while ws's sender has nothing
 * queued; it queues only while compressing (permessage-deflate is off here) or reading a Blob
 * (never sent here). When that does not hold, or the ws internals are not what this expects, the
 * payload goes through `ws.send` as usual. ws counts the raw write in `bufferedAmount` either way.
 * The sockets come from @nestjs/platform-ws's server: package.json's `overrides` makes it use the
 * same `ws` as this file (one copy, the version package-lock.json pins), not a nested one.
 */
const { Sender } = WebSocket as unknown as {
  Sender: { frame(data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};
const TEXT = { fin: true, opcode: 0x1, mask: false, readOnly: false, rsv1: false };
const TEXT_SEND = { binary: false } as const;
const HELD = Symbol('chatapp.held');
type HeldSocket = Socket & { [HELD]?: boolean };

/**
 * Frames written to one socket during one tick leave in one write: the first write of the tick
 * corks the socket, and a single `process.nextTick` — after the promise callbacks of this tick,
 * before any further I/O — uncorks every socket corked meanwhile. A group commit resolving many
 * sends, a presence batch, an echo followed by its ack: one system call per socket instead of one
 * per frame. No frame waits past the end of the callback that produced it.
 */
let held: HeldSocket[] = [];
export function holdForTick(sock: HeldSocket): void {
  if (sock[HELD]) return;
  sock[HELD] = true;
  sock.cork();
  if (held.push(sock) === 1) process.nextTick(releaseHeld);
}
function releaseHeld(): void {
  const list = held;
  held = [];
  for (const sock of list) {
    sock[HELD] = false;
    sock.uncork();
  }
}

interface WsInternals {
  _socket?: HeldSocket | null;
  _sender?: { _state?: number; _bufferedBytes?: number; _queue?: unknown[] } | null;
}

/** A complete unmasked text frame for `payload` (one buffer). */
export function textFrame(payload: Buffer): Buffer {
  const parts = Sender.frame(payload, TEXT);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, parts[0].length + payload.length);
}

/** Sends a frame made by `textFrame` (falls back to `ws.send(payload)`). The caller checked OPEN. */
export function sendFramed(ws: WebSocket, frame: Buffer, payload: Buffer): void {
  const { _socket: sock, _sender: s } = ws as unknown as WsInternals;
  if (sock && s && s._state === 0 && s._bufferedBytes === 0 && s._queue?.length === 0) {
    holdForTick(sock);
    sock.write(frame);
    return;
  }
  sendText(ws, payload);
}

/** Sends a payload (string or bytes) as one text frame through ws. */
export function sendText(ws: WebSocket, payload: string | Buffer): void {
  const sock = (ws as unknown as WsInternals)._socket;
  if (sock) holdForTick(sock);
  ws.send(payload, TEXT_SEND);
}
