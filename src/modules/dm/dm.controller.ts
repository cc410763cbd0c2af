import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/decorators';
import { RoomDto } from '../rooms/dto/room.dto';
import { DmService } from './dm.service';
import { CreateDmDto, DmListDto } from './dto/dm.dto';

@ApiTags('dm')
@ApiBearerAuth()
@Controller('api/v1/dm')
export class DmController {
  constructor(private readonly dms: DmService) {}

  @Post()
  @HttpCode(200)
  @ApiOkResponse({ type: RoomDto, description: 'the pair’s direct room (created on first call); always 200' })
  open(@CurrentUser() me: AuthUser, @Body() dto: CreateDmDto) {
    return this.dms.open(me, dto.recipient_id);
  }

  @Get()
  @ApiOkResponse({ type: DmListDto, description: 'direct rooms with a message, latest first' })
  list(@CurrentUser() me: AuthUser) {
    return this.dms.list(me);
  }
}
