import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/decorators';
import { RoomIdPipe, UserIdPipe } from '../../common/validation/uuid';
import { MessageResponseDto } from '../users/dto/user.dto';
import { AddMemberDto, CreateRoomDto, RoomDto, RoomListDto, RoomMemberDto, RoomPageDto, UpdateMemberDto } from './dto/room.dto';
import { RoomsService } from './rooms.service';

@ApiTags('rooms')
@ApiBearerAuth()
@Controller('api/v1/rooms')
export class RoomsController {
  constructor(private readonly rooms: RoomsService) {}

  @Get()
  @ApiQuery({ name: 'page', required: false, type: Number })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1..50, default 20' })
  @ApiOkResponse({ type: RoomPageDto, description: 'public rooms, newest first' })
  list(@CurrentUser() me: AuthUser, @Query('page') page?: string, @Query('limit') limit?: string) {
    return this.rooms.listPublic(me, page, limit);
  }

  @Post()
  @ApiCreatedResponse({ type: RoomDto })
  create(@CurrentUser() me: AuthUser, @Body() dto: CreateRoomDto) {
    return this.rooms.create(me, dto);
  }

  @Get('me')
  @ApiOkResponse({ type: RoomListDto, description: 'rooms the caller belongs to, latest activity first' })
  mine(@CurrentUser() me: AuthUser) {
    return this.rooms.listMine(me);
  }

  @Get(':id')
  @ApiOkResponse({ type: RoomDto })
  detail(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string) {
    return this.rooms.detail(me, id);
  }

  @Delete(':id')
  @ApiOkResponse({ type: MessageResponseDto })
  remove(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string) {
    return this.rooms.remove(me, id);
  }

  @Post(':id/join')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponseDto })
  join(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string) {
    return this.rooms.join(me, id);
  }

  @Post(':id/leave')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponseDto })
  leave(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string) {
    return this.rooms.leave(me, id);
  }

  @Post(':id/read')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponseDto })
  markRead(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string) {
    return this.rooms.markRead(me, id);
  }

  @Post(':id/members')
  @HttpCode(200)
  @ApiOkResponse({ type: RoomMemberDto, description: 'room admins only; idempotent' })
  addMember(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string, @Body() dto: AddMemberDto) {
    return this.rooms.addMember(me, id, dto.user_id);
  }

  @Delete(':id/members/:userId')
  @ApiOkResponse({ type: MessageResponseDto, description: 'room admins only' })
  removeMember(@CurrentUser() me: AuthUser, @Param('id', RoomIdPipe) id: string, @Param('userId', UserIdPipe) userId: string) {
    return this.rooms.removeMember(me, id, userId);
  }

  @Patch(':id/members/:userId')
  @ApiOkResponse({ type: RoomMemberDto, description: 'room admins promote or demote a member' })
  setRole(
    @CurrentUser() me: AuthUser,
    @Param('id', RoomIdPipe) id: string,
    @Param('userId', UserIdPipe) userId: string,
    @Body() dto: UpdateMemberDto,
  ) {
    return this.rooms.setRole(me, id, userId, dto.role);
  }
}
