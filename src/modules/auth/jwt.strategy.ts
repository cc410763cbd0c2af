import { Injectable } from '@nestjs/common';
import { Request } from 'express';
import { Strategy } from 'passport-jwt';
import { AuthUser } from '../../common/auth/auth-user';
import { DomainError } from '../../common/errors/domain-error';
import { TokenService } from './token.service';

/** `Authorization: Bearer <token>` exactly (case-sensitive scheme, split on the first space). */
export function bearerToken(req: Request): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const i = h.indexOf(' ');
  if (i < 0 || h.slice(0, i) !== 'Bearer') return null;
  const t = h.slice(i + 1);
  return t.length > 0 ? t : null;
}

/**
 * passport-jwt (HS256 only, expiry enforced) plus our claim and revocation checks. The guard
 * drives this instance directly instead of through passport's process-wide strategy registry, so
 * every app instance uses its own secret and database (several apps run in one test process).
 */
@Injectable()
export class JwtStrategy extends Strategy {
  constructor(
    private readonly tokens: TokenService,
  ) {
    super(
      { jwtFromRequest: bearerToken, secretOrKey: tokens.key as unknown as string, algorithms: ['HS256'], ignoreExpiration: false },
      (payload: unknown, done: (err: unknown, user?: AuthUser | false) => void) => {
        this.validate(payload).then(
          (user) => done(null, user),
          (err) => done(err, false),
        );
      },
    );
  }

  async validate(payload: unknown): Promise<AuthUser> {
    const claims = this.tokens.checkClaims(payload);
    if (!claims) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    return this.tokens.assertNotRevoked(claims);
  }

  /** Runs the passport strategy for one request: the user, or null when the token is invalid. */
  authenticateRequest(req: Request): Promise<AuthUser | null> {
    return new Promise((resolve, reject) => {
      const run = Object.create(this) as Strategy & {
        success(u: AuthUser): void;
        fail(): void;
        error(e: unknown): void;
        pass(): void;
      };
      run.success = (u) => resolve(u);
      run.fail = () => resolve(null);
      run.pass = () => resolve(null);
      run.error = (e) => reject(e);
      run.authenticate(req, {});
    });
  }
}
