import type { WebSocket } from 'ws';

/** A server → client frame. `auth_required` is the only frame without a payload. */
export interface OutFrame {
  type: string;
  payload?: unknown;
}

export interface DeliveryOptions {
  /** skip every socket of this user (the actor, for "other members" events) */
  exceptUserId?: string;
  /** room and room-sequence version of a message frame: lets a socket that is resyncing the room
   * hold it back and drop it if its catch-up already covered it */
  roomId?: string;
  version?: number;
}

/** Which sockets to close when tokens are revoked. */
export interface RevocationTarget {
  userId: string;
  /** close only sockets authenticated with this token */
  jti?: string;
  /** close every socket of the user except those using this token */
  exceptJti?: string;
}

/** Close codes this server uses (docs/realtime.md). */
export const CloseCode = {
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
} as const;

export type ChatSocket = WebSocket;
