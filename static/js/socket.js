// The realtime connection: first-message auth, automatic reconnect with backoff, resume with
// `sync`, and an outbox of sends that are retried with the same client_msg_id until acked.

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const RETRY_UNACKED_MS = 8000;

export function newId() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class ChatSocket {
  /**
   * @param {object} opts
   * @param {() => string|null} opts.token current token
   * @param {() => Record<string, number>} opts.syncPoints room id → last seq the client has
   * @param {(frame: {type: string, payload: any}) => void} opts.onFrame
   * @param {(state: 'connecting'|'online'|'offline', detail?: string) => void} opts.onState
   * @param {(reason: string) => void} opts.onAuthFailed
   */
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.authed = false;
    /** client_msg_id → { payload, sentAt } */
    this.outbox = new Map();
    this.retryTimer = null;
    this.onOnline = () => {
      if (this.stopped || this.ws) return;
      this.attempt = 0;
      this.connectNow();
    };
    // The network went away: drop the socket now instead of waiting for a timeout, and wait
    // for 'online' rather than burning reconnect attempts.
    this.onOffline = () => {
      if (this.stopped) return;
      clearTimeout(this.timer);
      const ws = this.ws;
      this.ws = null;
      this.authed = false;
      if (ws) ws.close();
      this.opts.onState('offline', 'waiting for the network');
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.retryTimer = setInterval(() => this.retryUnacked(), 2000);
    this.connectNow();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.timer);
    clearInterval(this.retryTimer);
    this.outbox.clear();
    const ws = this.ws;
    this.ws = null;
    this.authed = false;
    if (ws) ws.close(1000, 'logout');
  }

  get connected() {
    return this.authed && this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  connectNow() {
    clearTimeout(this.timer);
    const token = this.opts.token();
    if (!token || this.stopped) return;
    if (navigator.onLine === false) {
      this.opts.onState('offline', 'waiting for the network');
      return;
    }
    this.opts.onState('connecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.authed = false;
    ws.addEventListener('open', () => {
      // the token travels in the first frame, never in the URL
      ws.send(JSON.stringify({ type: 'auth', payload: { token } }));
    });
    ws.addEventListener('message', (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== 'string') return;
      if (ws !== this.ws) return;
      this.handle(frame);
    });
    ws.addEventListener('close', (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      const wasAuthed = this.authed;
      this.authed = false;
      if (this.stopped) return;
      if (ev.code === 4401 || this.authError) {
        const reason = this.authError || ev.reason || 'Session ended';
        this.authError = null;
        this.opts.onAuthFailed(reason);
        // the owner decides (log out, or reconnect if the token still works)
      }
      if (wasAuthed) this.attempt = 0;
      this.scheduleReconnect();
    });
  }

  handle(frame) {
    if (frame.type === 'auth_required') return;
    if (!this.authed && frame.type === 'error') {
      const e = frame.payload && frame.payload.error;
      if (e === 'Invalid or expired token' || /revoked/i.test(String(e))) this.authError = e;
      return;
    }
    if (frame.type === 'user_online' && frame.payload && frame.payload.message === 'Connected to chat server') {
      this.authed = true;
      this.attempt = 0;
      this.opts.onState('online');
      const rooms = this.opts.syncPoints();
      if (Object.keys(rooms).length > 0) this.sendRaw('sync', { rooms });
      // resend everything not yet acknowledged, with the same client_msg_id
      for (const item of this.outbox.values()) {
        item.sentAt = Date.now();
        this.sendRaw('send_message', item.payload);
      }
    }
    if (frame.type === 'message_ack' && frame.payload) this.outbox.delete(frame.payload.client_msg_id);
    if (frame.type === 'new_message' && frame.payload && frame.payload.client_msg_id) {
      this.outbox.delete(frame.payload.client_msg_id);
    }
    this.opts.onFrame(frame);
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.opts.onState('offline', `reconnecting in ${Math.ceil(delay / 1000)} s`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connectNow(), delay);
  }

  /** Fire-and-forget frames (typing, join_room…): dropped when not connected. */
  sendRaw(type, payload) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    if (!this.authed && type !== 'auth') return false;
    this.ws.send(JSON.stringify({ type, payload }));
    return true;
  }

  /** A message send: kept in the outbox until `message_ack`; returns its client_msg_id. */
  sendMessage(payload) {
    const id = newId();
    const item = { payload: { ...payload, client_msg_id: id }, sentAt: Date.now() };
    this.outbox.set(id, item);
    this.sendRaw('send_message', item.payload);
    return id;
  }

  /** Drop an outbox entry the server refused (error frame): it would fail again. */
  drop(clientMsgId) {
    this.outbox.delete(clientMsgId);
  }

  retryUnacked() {
    if (!this.connected) return;
    const now = Date.now();
    for (const item of this.outbox.values()) {
      if (now - item.sentAt >= RETRY_UNACKED_MS) {
        item.sentAt = now;
        this.sendRaw('send_message', item.payload);
      }
    }
  }
}
