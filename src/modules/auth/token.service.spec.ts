import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../../config/env';
import { UsersRepository } from '../users/users.repository';
import { TokenService, VERIFIED_TOKENS_KEPT } from './token.service';

const USER = { id: '6f1c1a52-3c6b-4d0e-9a43-2b9d5f3a8e11', username: 'alice', tokenVersion: 0 };

function make(secret = 's3cret-for-tests') {
  const jwt = new JwtService({});
  const verify = jest.spyOn(jwt, 'verify');
  const tokens = new TokenService(jwt, {} as UsersRepository, { jwtSecret: secret } as AppConfig);
  return { tokens, verify };
}

/** The same token with one signature character changed (still valid base64url). */
function tamper(token: string): string {
  const last = token[token.length - 2];
  return token.slice(0, -2) + (last === 'A' ? 'B' : 'A') + token.slice(-1);
}

describe('TokenService.decode: the verified-token memo', () => {
  it('verifies a token once; later decodes of the same string reuse the claims', () => {
    const { tokens, verify } = make();
    const t = tokens.issue(USER);
    const a = tokens.decode(t);
    const b = tokens.decode(t);
    expect(a).toMatchObject({ user_id: USER.id, username: 'alice' });
    expect(b).toBe(a);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('a tampered copy of a known token is verified on its own, and refused', () => {
    const { tokens, verify } = make();
    const t = tokens.issue(USER);
    expect(tokens.decode(t)).not.toBeNull();
    expect(tokens.decode(tamper(t))).toBeNull();
    expect(verify).toHaveBeenCalledTimes(2);
    // and refusing it did not evict or poison the good one
    expect(tokens.decode(t)).not.toBeNull();
  });

  it('a token signed with another secret is refused even when its claims match a known token', () => {
    const mine = make('secret-one');
    const theirs = make('secret-two');
    const t = theirs.tokens.issue(USER);
    expect(theirs.tokens.decode(t)).not.toBeNull();
    expect(mine.tokens.decode(t)).toBeNull();
  });

  it('expiry is checked on every hit: a remembered token stops decoding once it expires', () => {
    const { tokens, verify } = make();
    const t = tokens.issue(USER);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      expect(tokens.decode(t)).not.toBeNull();
      clock.mockReturnValue(now + 8 * 24 * 3600 * 1000); // past the 7-day lifetime
      expect(tokens.decode(t)).toBeNull();
      expect(verify).toHaveBeenCalledTimes(1); // refused from the memo, on exp alone
    } finally {
      clock.mockRestore();
    }
  });

  it(`remembers at most ${VERIFIED_TOKENS_KEPT} tokens, dropping the oldest`, () => {
    const { tokens, verify } = make();
    const all = Array.from({ length: VERIFIED_TOKENS_KEPT + 1 }, () => tokens.issue(USER));
    for (const t of all) tokens.decode(t);
    expect(verify).toHaveBeenCalledTimes(all.length);
    tokens.decode(all[all.length - 1]); // newest: remembered
    expect(verify).toHaveBeenCalledTimes(all.length);
    tokens.decode(all[0]); // oldest: dropped, verified again
    expect(verify).toHaveBeenCalledTimes(all.length + 1);
  });
});
