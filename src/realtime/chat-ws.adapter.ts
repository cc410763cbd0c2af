import { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { AuthUser } from '../common/auth/auth-user';
import { DomainError } from '../common/errors/domain-error';
import { ConnectionHub, FrameHandler } from './connection-hub';
import { holdForTick } from './ws-frame';

export const MAX_FRAME_BYTES = 16 * 1024;

export interface HandshakeChecks {
  allowedOrigins: string[];
  /** Authorization-header auth: user, null (invalid: fall back to first-message auth), or throws when revoked */
  authenticateHeader(token: string): Promise<AuthUser | null>;
}

type VerifyCb = (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

/**
 * platform-ws with our handshake (Origin check, header auth with revocation, caps), a 16 KiB frame
 * limit, and frames routed through the hub (auth state, ordering, rate limits, buffering) before
 * they reach the gateways' @SubscribeMessage handlers.
 */
export class ChatWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly hub: ConnectionHub,
    private readonly checks: HandshakeChecks,
  ) {
    super(app);
  }

  create(port: number, options: Record<string, unknown> & { path?: string } = {}) {
    return super.create(port, {
      ...options,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      verifyClient: (info: { origin: string; req: IncomingMessage }, cb: VerifyCb) => void this.verify(info, cb),
    });
  }

  private async verify(info: { origin: string; req: IncomingMessage }, cb: VerifyCb): Promise<void> {
    const req = info.req as IncomingMessage & { chatUser?: AuthUser };
    const origin = req.headers.origin;
    if (origin !== undefined && !this.checks.allowedOrigins.includes(origin) && !isSameOrigin(origin, req.headers.host)) {
      return cb(false, 403, 'Forbidden');
    }
    if (this.hub.isDraining) return cb(false, 503, 'Service Unavailable');
    const h = req.headers.authorization;
    if (typeof h === 'string' && h.startsWith('Bearer ') && h.length > 7) {
      try {
        const user = await this.checks.authenticateHeader(h.slice(7));
        if (user) {
          req.chatUser = user;
          return accept(req, cb);
        }
      } catch (e) {
        const json = { 'Content-Type': 'application/json' };
        if (e instanceof DomainError && e.code === 'UNAUTHENTICATED') {
          return cb(false, 401, JSON.stringify({ error: 'Token has been revoked' }), json);
        }
        return cb(false, 503, JSON.stringify({ error: 'Service temporarily unavailable' }), json);
      }
    }
    if (!this.hub.canAcceptUnauthenticated()) return cb(false, 503, 'Service Unavailable');
    accept(req, cb);
  }

  bindMessageHandlers(client: WebSocket, handlers: { message: unknown; callback: FrameHandler }[]): void {
    const map = new Map<string, FrameHandler>();
    for (const h of handlers) map.set(String(h.message), h.callback);
    this.hub.bindHandlers(client, map);
  }
}

/**
 * ws writes the 101 response and, in the same call stack, hands the socket to the gateways, whose
 * first frame (`user_online` or `auth_required`) follows at once: corked for this tick, both leave
 * in one write.
 */
function accept(req: IncomingMessage, cb: VerifyCb): void {
  holdForTick(req.socket);
  cb(true);
}

/** Our own page (served from this host) may always open the socket, whatever ALLOWED_ORIGINS lists. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host === host.toLowerCase();
  } catch {
    return false;
  }
}
