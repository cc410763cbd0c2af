import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { DomainError, isDatabaseUnavailable } from './domain-error';

/** Any error in a WebSocket handler becomes the protocol's error frame; the socket stays open. */
@Catch()
export class WsErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('WsError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs().getClient<WebSocket>();
    let error: string;
    if (exception instanceof DomainError) error = exception.message;
    else if (exception instanceof WsException) error = String(exception.getError());
    else if (isDatabaseUnavailable(exception)) error = 'Service temporarily unavailable';
    else {
      this.logger.error({ err: exception }, 'ws handler failed');
      error = 'Internal server error';
    }
    if (ws.readyState === 1) ws.send(JSON.stringify({ type: 'error', payload: { error } }));
  }
}
