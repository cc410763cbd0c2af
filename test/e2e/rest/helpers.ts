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

export { signJwt } from '../../setup/tokens';

export const NIL_UUID = '00000000-0000-4000-8000-000000000000';
