import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Request } from 'express';
import { Strategy } from 'passport-jwt';
import { AuthUser } from '../../common/auth/auth-user';
import { DomainError } from '../../common/errors/domain-error';
import { APP_CONFIG } from '../../config/app-config';
import type { AppConfig } from '../../config/env';
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

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tokens: TokenService,
  ) {
    super({
      jwtFromRequest: bearerToken,
      secretOrKey: config.jwtSecret,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  async validate(payload: unknown): Promise<AuthUser> {
    const claims = this.tokens.checkClaims(payload);
    if (!claims) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    return this.tokens.assertNotRevoked(claims);
  }
}
