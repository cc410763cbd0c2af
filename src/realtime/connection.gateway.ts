import { ConnectedSocket, OnGatewayConnection, OnGatewayDisconnect, SubscribeMessage } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { AuthUser } from '../common/auth/auth-user';
import { TokenService } from '../modules/auth/token.service';
import { ChatGateway } from './chat-gateway.decorator';
import { ConnectionHub } from './connection-hub';

/** The one connection owner: registers sockets with the hub (auth on connect), answers `ping`. */
@ChatGateway()
export class ConnectionGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly hub: ConnectionHub,
    tokens: TokenService,
  ) {
    // first-message auth uses the same token check (signature, expiry, revocation) as REST
    hub.useAuthenticator((token) => tokens.authenticate(token));
  }

  handleConnection(socket: WebSocket, req: IncomingMessage & { chatUser?: AuthUser }): void {
    this.hub.open(socket, req?.chatUser ?? null);
  }

  handleDisconnect(socket: WebSocket): void {
    this.hub.close(socket);
  }

  @SubscribeMessage('ping')
  ping(@ConnectedSocket() socket: WebSocket): void {
    this.hub.send(socket, { type: 'pong', payload: { time: Math.floor(Date.now() / 1000) } });
  }
}
