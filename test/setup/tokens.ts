import { createHmac, randomUUID } from 'node:crypto';
import { TEST_JWT_SECRET } from './app';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** The claims the server puts in its tokens, for this user, valid for an hour unless overridden. */
export function claimsFor(user: { id: string; username: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { user_id: user.id, username: user.username, jti: randomUUID(), iat: now, exp: now + 3600, tv: 0, ...extra };
}

/** A hand-made JWT (signs any payload: to forge expired, unsigned or wrongly signed tokens). */
export function signJwt(payload: Record<string, unknown>, secret = TEST_JWT_SECRET, alg: 'HS256' | 'HS512' | 'none' = 'HS256'): string {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  if (alg === 'none') return `${head}.`;
  const h = alg === 'HS256' ? 'sha256' : 'sha512';
  return `${head}.${createHmac(h, secret).update(head).digest('base64url')}`;
}
