import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request } from 'express';
import { JwtStrategy } from '../../modules/auth/jwt.strategy';
import { DomainError } from '../errors/domain-error';
import { IS_PUBLIC } from './decorators';

/**
 * Global guard: every route needs a valid, unrevoked bearer token unless marked @Public().
 * The protocol's four 401 texts; a database error during the revocation check fails closed (503).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<Request & { user?: unknown }>();
    const h = req.headers.authorization;
    if (h === undefined || h === '') throw new DomainError('UNAUTHENTICATED', 'Authorization header is required');
    const i = h.indexOf(' ');
    if (i < 0 || h.slice(0, i) !== 'Bearer' || h.length === i + 1) {
      throw new DomainError('UNAUTHENTICATED', 'Invalid authorization format. Use: Bearer <token>');
    }
    const user = await this.strategy.authenticateRequest(req);
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    req.user = user;
    return true;
  }
}
