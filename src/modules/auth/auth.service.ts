import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import * as bcrypt from 'bcrypt';
import { AuthUser } from '../../common/auth/auth-user';
import { DomainError } from '../../common/errors/domain-error';
import { hasInvalidText } from '../../common/validation/uuid';
import { AuthResponseDto, UserDto } from '../users/dto/user.dto';
import { toUserDto, UserRow } from '../users/user.mapper';
import { UsersRepository } from '../users/users.repository';
import { TOKENS_REVOKED } from '../users/users.events';
import { RealtimeService } from '../../realtime/realtime.service';
import { RevocationTarget } from '../../realtime/realtime.types';
import { LoginDto, RegisterDto, UpdateEmailDto, UpdatePasswordDto } from './dto/auth.dto';
import { AuthRepository } from './auth.repository';
import { TokenService } from './token.service';

const BCRYPT_COST = 10;
const USERNAME_RE = /^[a-zA-Z0-9_]{3,30}$/;
const LETTER_AND_DIGIT = (p: string) => /[A-Za-z]/.test(p) && /[0-9]/.test(p);
// A real hash of a random password: unknown users cost one bcrypt compare too (no timing oracle).
const DUMMY_HASH = bcrypt.hashSync('dummy-password-for-timing-' + Math.random(), BCRYPT_COST);

const conflict = (m: string) => new DomainError('CONFLICT', m);
const bad = (m: string) => new DomainError('BAD_REQUEST', m);

/** Accounts: register, login, logout, e-mail and password changes. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly blacklist: AuthRepository,
    private readonly tokens: TokenService,
    private readonly realtime: RealtimeService,
    private readonly events: EventEmitter2,
  ) {}

  private view(row: UserRow): UserDto {
    return toUserDto(row, row.id, this.realtime.isOnline(row.id));
  }

  async register(dto: RegisterDto): Promise<AuthResponseDto> {
    if (!USERNAME_RE.test(dto.username)) {
      throw conflict('username must be 3-30 characters and contain only letters, numbers, and underscores');
    }
    if (!LETTER_AND_DIGIT(dto.password)) throw conflict('password must contain at least one letter and one number');
    if (await this.users.existsByLower('email', dto.email)) throw conflict('email already registered');
    if (await this.users.existsByLower('username', dto.username)) throw conflict('username already taken');
    if (Buffer.byteLength(dto.password) > 72) throw conflict('failed to hash password');
    const hash = await bcrypt.hash(dto.password, BCRYPT_COST);
    let row: UserRow;
    try {
      row = await this.users.insert({ username: dto.username, email: dto.email, password: hash });
    } catch (e) {
      const c = (e as { constraint?: string; driverError?: { constraint?: string } }).driverError?.constraint;
      if (c === 'UQ_users_email_lower') throw conflict('email already registered');
      if (c === 'UQ_users_username_lower') throw conflict('username already taken');
      throw e;
    }
    return { token: this.tokens.issue({ id: row.id, username: row.username, tokenVersion: 0 }), user: this.view(row) };
  }

  async login(dto: LoginDto): Promise<AuthResponseDto> {
    const email = dto.email ?? '';
    const username = dto.username ?? '';
    if (email === '' && username === '') throw new DomainError('UNAUTHENTICATED', 'email or username is required');
    const login = email !== '' ? email : username;
    // PostgreSQL refuses NUL in text, and no stored email or username holds invalid text: no such user
    const row = hasInvalidText(login)
      ? null
      : await this.users.findAuthByLogin(email !== '' && email.includes('@') ? 'email' : 'username', login);
    const ok = await bcrypt.compare(dto.password, row?.password ?? DUMMY_HASH);
    if (!row || !ok) throw new DomainError('UNAUTHENTICATED', 'invalid credentials');
    const token = this.tokens.issue({ id: row.id, username: row.username, tokenVersion: row.token_version });
    return { token, user: this.view(row) };
  }

  async logout(me: AuthUser): Promise<{ message: string }> {
    await this.blacklist.revoke(me.jti, new Date(me.exp * 1000));
    this.events.emit(TOKENS_REVOKED, { userId: me.id, jti: me.jti } satisfies RevocationTarget);
    return { message: 'Logged out successfully' };
  }

  async me(me: AuthUser): Promise<UserDto> {
    const row = await this.users.findById(me.id);
    if (!row) throw new DomainError('NOT_FOUND', 'User not found');
    return this.view(row);
  }

  async changeEmail(me: AuthUser, dto: UpdateEmailDto): Promise<UserDto> {
    const user = await this.users.findAuthById(me.id);
    if (!user) throw bad('user not found');
    if (!(await bcrypt.compare(dto.current_password, user.password))) throw bad('incorrect current password');
    if (await this.users.existsByLower('email', dto.email, me.id)) throw bad('email already in use');
    try {
      const row = await this.users.updateEmail(me.id, dto.email);
      if (!row) throw bad('user not found');
      return this.view(row);
    } catch (e) {
      if ((e as { driverError?: { constraint?: string } }).driverError?.constraint === 'UQ_users_email_lower') {
        throw bad('email already in use');
      }
      throw e;
    }
  }

  async changePassword(me: AuthUser, dto: UpdatePasswordDto): Promise<{ message: string }> {
    const user = await this.users.findAuthById(me.id);
    if (!user) throw bad('user not found');
    if (!(await bcrypt.compare(dto.current_password, user.password))) throw bad('incorrect current password');
    if (!LETTER_AND_DIGIT(dto.new_password)) throw bad('new password must contain at least one letter and one number');
    if (Buffer.byteLength(dto.new_password) > 72) throw bad('failed to hash password');
    const hash = await bcrypt.hash(dto.new_password, BCRYPT_COST);
    await this.users.updatePassword(me.id, hash, me.jti);
    this.events.emit(TOKENS_REVOKED, { userId: me.id, exceptJti: me.jti } satisfies RevocationTarget);
    return { message: 'Password updated successfully' };
  }
}
