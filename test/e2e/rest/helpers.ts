import { createHmac } from 'node:crypto';
import type { HttpResult } from '../../setup/clients';

/** The protocol's plain error body: exact status and `{"error": text}` (JSON, never HTML). */
export function expectError(r: HttpResult, status: number, error: string | RegExp): void {
  const got = { status: r.status, error: r.body.error, json: r.headers.get('content-type')?.includes('application/json') ?? false };
  expect(got).toEqual({ status, error: typeof error === 'string' ? error : expect.stringMatching(error), json: true });
}

/** The validation shape: 400 `{"error":"Validation failed","details":…}`. */
export function expectValidation(r: HttpResult): void {
  expect({ status: r.status, error: r.body.error, hasDetails: r.body.details !== undefined }).toEqual({
    status: 400,
    error: 'Validation failed',
    hasDetails: true,
  });
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A hand-made JWT (to forge expired, unsigned or wrongly signed tokens). */
export function signJwt(payload: Record<string, unknown>, secret: string, alg: 'HS256' | 'HS512' | 'none' = 'HS256'): string {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  if (alg === 'none') return `${head}.`;
  const h = alg === 'HS256' ? 'sha256' : 'sha512';
  return `${head}.${createHmac(h, secret).update(head).digest('base64url')}`;
}

export const NIL_UUID = '00000000-0000-4000-8000-000000000000';
