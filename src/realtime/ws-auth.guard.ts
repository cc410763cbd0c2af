import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { DomainError } from '../common/errors/domain-error';
import { ConnectionHub } from './connection-hub';

/** Handlers run only for sockets the hub has authenticated (platform-ws binds them before auth). */
@Injectable()
export class WsAuthGuard implements CanActivate {
  constructor(private readonly hub: ConnectionHub) {}
  canActivate(ctx: ExecutionContext): boolean {
    if (!this.hub.isAuthenticated(ctx.switchToWs().getClient<WebSocket>())) {
      throw new DomainError('UNAUTHENTICATED', 'Not authenticated');
    }
    return true;
  }
}
