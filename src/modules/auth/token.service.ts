import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey, KeyObject, randomUUID } from 'node:crypto';
import { AuthUser, TokenClaims } from '../../common/auth/auth-user';
import { DomainError } from '../../common/errors/domain-error';
import { parseUuid } from '../../common/validation/uuid';
import { APP_CONFIG } from '../../config/app-config';
import type { AppConfig } from '../../config/env';
import { UsersRepository } from '../users/users.repository';

export const TOKEN_TTL_SECONDS = 7 * 24 * 3600;
export const REVOKED_MESSAGE = 'Token has been revoked. Please log in again.';
/** How many verified tokens `decode` remembers (a few hundred bytes each). */
export const VERIFIED_TOKENS_KEPT = 4096;

/** Issues and checks JWTs (HS256 only, `exp` required) and answers "is this token revoked?". */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly users: UsersRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
  }

  /**
   * The HS256 secret as a KeyObject, made once. Given a string, jsonwebtoken first tries (and fails)
   * to parse it as a PEM key on every sign and verify: ~0.5 ms of CPU per WebSocket handshake.
   * (jsonwebtoken accepts a KeyObject; @nestjs/jwt's and passport-jwt's option types only name strings.)
   */
  readonly key: KeyObject;

  issue(user: { id: string; username: string; tokenVersion: number }): string {
    const iat = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      user_id: user.id,
      username: user.username,
      jti: randomUUID(),
      iat,
      exp: iat + TOKEN_TTL_SECONDS,
      tv: user.tokenVersion,
    };
    return this.jwt.sign(claims, { algorithm: 'HS256', secret: this.key as unknown as string });
  }

  /**
   * Tokens whose signature and claims already verified, by the exact token string → its claims.
   * A client opens several sockets with one token (tabs, reconnects) and each handshake would redo
   * the HMAC and jsonwebtoken's parsing (~0.1 ms of CPU, the largest single cost of a handshake).
   * Only what the string itself proves is kept: expiry is checked again on every hit, and
   * revocation is never cached (`assertNotRevoked` reads the database every time). Oldest first out.
   */
  private readonly verified = new Map<string, TokenClaims>();

  /** Signature, algorithm and claims; null when the token is not one of ours or expired. */
  decode(token: string): TokenClaims | null {
    const known = this.verified.get(token);
    if (known) {
      // its shape was checked when it was remembered; only the clock moves
      if (known.exp * 1000 > Date.now()) return known;
      this.verified.delete(token);
      return null;
    }
    let claims: TokenClaims | null;
    try {
      claims = this.checkClaims(this.jwt.verify<TokenClaims>(token, { algorithms: ['HS256'], secret: this.key as unknown as string }));
    } catch {
      return null;
    }
    if (claims) {
      if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, Object.freeze(claims));
    }
    return claims;
  }

  /** Claims already verified by passport-jwt: check the shape we rely on. */
  checkClaims(c: unknown): TokenClaims | null {
    const claims = c as TokenClaims;
    if (!claims || typeof claims !== 'object') return null;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return null;
    if (!parseUuid(claims.user_id) || typeof claims.jti !== 'string' || claims.jti === '') return null;
    if (typeof claims.username !== 'string') return null;
    return claims;
  }

  /**
   * Throws UNAUTHENTICATED when the token is revoked (logout blacklist, or a password change after
   * it was issued) or its user no longer exists. A database error propagates: the check fails
   * closed (503), never "allowed".
   */
  async assertNotRevoked(claims: TokenClaims): Promise<AuthUser> {
    const state = await this.users.tokenState(claims.user_id, claims.jti);
    if (!state) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    const staleVersion = (claims.tv ?? 0) < state.token_version && claims.jti !== state.token_keep_jti;
    if (state.revoked || staleVersion) throw new DomainError('UNAUTHENTICATED', REVOKED_MESSAGE);
    return { id: claims.user_id, username: claims.username, jti: claims.jti, exp: claims.exp };
  }

  /** Token → user with revocation checked; null for an invalid token. */
  async authenticate(token: string): Promise<AuthUser | null> {
    const claims = this.decode(token);
    return claims ? this.assertNotRevoked(claims) : null;
  }
}
