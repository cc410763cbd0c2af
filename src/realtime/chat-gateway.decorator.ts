import { applyDecorators, UseFilters, UseGuards } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { WsErrorFilter } from '../common/errors/ws-error.filter';
import { WsAuthGuard } from './ws-auth.guard';

export const WS_PATH = '/api/v1/ws';

/** Every feature gateway: the one socket path, the error-frame filter, the authenticated-socket guard. */
export const ChatGateway = () => applyDecorators(WebSocketGateway({ path: WS_PATH }), UseFilters(WsErrorFilter), UseGuards(WsAuthGuard));
