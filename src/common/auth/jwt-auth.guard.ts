import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Request } from 'express';
import { DomainError } from '../errors/domain-error';
import { IS_PUBLIC } from './decorators';

/** Global guard: every route needs a valid, unrevoked bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  canActivate(ctx: ExecutionContext) {
    if (ctx.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    const h = req.headers.authorization;
    if (h === undefined || h === '') throw new DomainError('UNAUTHENTICATED', 'Authorization header is required');
    const i = h.indexOf(' ');
    if (i < 0 || h.slice(0, i) !== 'Bearer' || h.length === i + 1) {
      throw new DomainError('UNAUTHENTICATED', 'Invalid authorization format. Use: Bearer <token>');
    }
    return super.canActivate(ctx);
  }

  handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired token');
    return user;
  }
}
