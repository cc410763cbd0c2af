import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/decorators';
import { UserIdPipe } from '../../common/validation/uuid';
import { UserDto, UserListDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('search')
  @ApiQuery({ name: 'q', required: false, description: 'substring of the username (case-insensitive); at most 20 results' })
  @ApiOkResponse({ type: UserListDto })
  search(@CurrentUser() me: AuthUser, @Query('q') q?: string) {
    return this.users.search(me, typeof q === 'string' ? q : undefined);
  }

  @Get(':id')
  @ApiOkResponse({ type: UserDto })
  get(@CurrentUser() me: AuthUser, @Param('id', UserIdPipe) id: string) {
    return this.users.getById(me, id);
  }
}
