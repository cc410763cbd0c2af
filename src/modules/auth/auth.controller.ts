import { Body, Controller, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser, Public } from '../../common/auth/decorators';
import { AuthLimited } from '../../common/http/throttle';
import { AuthResponseDto, ErrorDto, MessageResponseDto, UserDto } from '../users/dto/user.dto';
import { UsersService } from '../users/users.service';
import { LoginDto, RegisterDto, UpdateEmailDto, UpdatePasswordDto, UpdateProfileDto, UpdateUsernameDto } from './dto/auth.dto';
import { AuthService } from './auth.service';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Post('register')
  @Public()
  @AuthLimited()
  @ApiCreatedResponse({ type: AuthResponseDto })
  @ApiConflictResponse({ type: ErrorDto, description: 'taken e-mail/username, bad username or password format' })
  @ApiTooManyRequestsResponse({ type: ErrorDto })
  register(@Body() dto: RegisterDto) {
    return this.auth.register(dto);
  }

  @Post('login')
  @Public()
  @AuthLimited()
  @HttpCode(200)
  @ApiOkResponse({ type: AuthResponseDto })
  @ApiUnauthorizedResponse({ type: ErrorDto })
  @ApiTooManyRequestsResponse({ type: ErrorDto })
  login(@Body() dto: LoginDto) {
    return this.auth.login(dto);
  }

  @Post('logout')
  @ApiBearerAuth()
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponseDto, description: 'revokes this token and closes its sockets' })
  logout(@CurrentUser() me: AuthUser) {
    return this.auth.logout(me);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserDto })
  me(@CurrentUser() me: AuthUser) {
    return this.auth.me(me);
  }

  @Patch('me')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserDto })
  updateProfile(@CurrentUser() me: AuthUser, @Body() dto: UpdateProfileDto) {
    return this.users.updateProfile(me, dto);
  }

  @Patch('username')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserDto, description: 'at most once every 6 hours' })
  updateUsername(@CurrentUser() me: AuthUser, @Body() dto: UpdateUsernameDto) {
    return this.users.changeUsername(me, dto);
  }

  @Patch('email')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserDto })
  updateEmail(@CurrentUser() me: AuthUser, @Body() dto: UpdateEmailDto) {
    return this.auth.changeEmail(me, dto);
  }

  @Patch('password')
  @ApiBearerAuth()
  @ApiOkResponse({ type: MessageResponseDto, description: "revokes the user's other tokens and closes their sockets" })
  updatePassword(@CurrentUser() me: AuthUser, @Body() dto: UpdatePasswordDto) {
    return this.auth.changePassword(me, dto);
  }
}
