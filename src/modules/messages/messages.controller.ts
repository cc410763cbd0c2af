import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/decorators';
import { DomainError } from '../../common/errors/domain-error';
import { MessageIdPipe, RoomIdPipe } from '../../common/validation/uuid';
import { MessageResponseDto } from '../users/dto/user.dto';
import { ChangesDto, EditMessageDto, MessageDto, MessagePageDto, SendMessageBodyDto } from './dto/message.dto';
import { MessagesService } from './messages.service';
import { parseSendMessage } from './send-message.input';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('api/v1')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get('rooms/:id/messages')
  @ApiQuery({ name: 'page', required: false, type: Number, description: '1 = newest batch' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1..100, default 50' })
  @ApiOkResponse({ type: MessagePageDto, description: 'page 1 is the newest batch, oldest-first inside' })
  history(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string, @Query('page') page?: string, @Query('limit') limit?: string) {
    return this.messages.history(me, id, page, limit);
  }

  @Post('rooms/:id/messages')
  @ApiBody({ type: SendMessageBodyDto })
  @ApiCreatedResponse({ type: MessageDto, description: 'same rules as the WebSocket send_message; members get new_message' })
  async send(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string, @Body() body: unknown): Promise<MessageDto> {
    const input = parseSendMessage(body ?? {}, id);
    return (await this.messages.send(me, input, 'you are not a member of this room')).message;
  }

  @Get('rooms/:id/changes')
  @ApiQuery({ name: 'after', required: true, type: Number, description: 'last room sequence number the client has' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1..1000, default 500' })
  @ApiOkResponse({ type: ChangesDto })
  changes(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    if (typeof after !== 'string' || !/^\d{1,15}$/.test(after)) throw new DomainError('BAD_REQUEST', 'after must be a non-negative integer');
    return this.messages.changes(me, id, Number(after), limit);
  }

  @Patch('messages/:id')
  @ApiOkResponse({ type: MessageDto })
  edit(@CurrentUser() me: AuthUser, @Param('id', MessageIdPipe) id: string, @Body() dto: EditMessageDto) {
    return this.messages.edit(me, id, dto.content);
  }

  @Delete('messages/:id')
  @ApiOkResponse({ type: MessageResponseDto })
  remove(@CurrentUser() me: AuthUser, @Param('id', MessageIdPipe) id: string) {
    return this.messages.remove(me, id);
  }
}
