import { ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerRequest } from '@nestjs/throttler';
import { Request } from 'express';
import { DomainError } from '../errors/domain-error';
import { IS_PUBLIC } from '../auth/decorators';

export const AUTH_LIMITED = 'chatapp:auth-limited';
/** register/login: the shared 10/min auth limiter instead of the API limiter. */
export const AuthLimited = () => SetMetadata(AUTH_LIMITED, true);

/**
 * Two limiters as the protocol has them: `auth` (register + login together) and `api` (every
 * protected route together), per client address. Runs after the JWT guard, so 401s cost nothing.
 * The key is the socket address; behind a trusted proxy (TRUST_PROXY) Express resolves req.ip.
 */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  protected async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, throttler } = props;
    if (context.getType() !== 'http') return true;
    const authLimited = this.reflector.getAllAndOverride<boolean>(AUTH_LIMITED, [context.getHandler(), context.getClass()]);
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (throttler.name === 'auth' && !authLimited) return true;
    if (throttler.name === 'api' && (authLimited || isPublic)) return true;
    return super.handleRequest(props);
  }

  protected async getTracker(req: Record<string, unknown>): Promise<string> {
    const r = req as unknown as Request;
    // req.ip is the socket address unless Express was told to trust a proxy (TRUST_PROXY)
    return r.ip || r.socket?.remoteAddress || 'unknown';
  }

  protected generateKey(_ctx: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected async throwThrottlingException(): Promise<void> {
    throw new DomainError('RATE_LIMITED', 'Too many requests', undefined, { retry_after: '60s' });
  }
}
