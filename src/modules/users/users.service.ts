import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuthUser } from '../../common/auth/auth-user';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import { hasInvalidText } from '../../common/validation/uuid';
import { RealtimeService } from '../../realtime/realtime.service';
import { UploadService } from '../upload/upload.service';
import { UpdateProfileDto, UpdateUsernameDto } from '../auth/dto/auth.dto';
import { UserDto } from './dto/user.dto';
import { toUserDto, UserRow } from './user.mapper';
import { UsersRepository } from './users.repository';
import { PROFILE_UPDATED, ProfileUpdatedEvent } from './users.events';

const USERNAME_RE = /^[a-zA-Z0-9_]{3,30}$/;
const COOLDOWN_MS = 6 * 3600 * 1000;
const SEARCH_LIMIT = 20;
const bad = (m: string) => new DomainError('BAD_REQUEST', m);

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly uploads: UploadService,
    private readonly realtime: RealtimeService,
    private readonly events: EventEmitter2,
    private readonly clock: Clock,
  ) {}

  view(row: UserRow, viewerId: string | null): UserDto {
    return toUserDto(row, viewerId, this.realtime.isOnline(row.id));
  }

  async getById(me: AuthUser, id: string): Promise<UserDto> {
    const row = await this.users.findById(id);
    if (!row) throw new DomainError('NOT_FOUND', 'User not found');
    return this.view(row, me.id);
  }

  async search(me: AuthUser, q: string | undefined): Promise<{ data: UserDto[] }> {
    const query = typeof q === 'string' ? q.trim().slice(0, 100) : '';
    // NUL cannot be sent to PostgreSQL (it was a 500) and matches no username anyway
    if (query === '' || hasInvalidText(query)) return { data: [] };
    const rows = await this.users.search(query, me.id, SEARCH_LIMIT);
    return { data: rows.map((r) => this.view(r, me.id)) };
  }

  async updateProfile(me: AuthUser, dto: UpdateProfileDto): Promise<UserDto> {
    const status = dto.status ? dto.status : undefined;
    const avatar = dto.avatar ? dto.avatar : undefined;
    if (status !== undefined && hasInvalidText(status)) throw bad('status contains invalid characters');
    if (avatar !== undefined && !(await this.uploads.isUploadedUrl(avatar))) {
      throw bad('avatar must be the URL of a file uploaded to this server');
    }
    const row = await this.users.updateProfile(me.id, { status, avatar });
    if (!row) throw new DomainError('NOT_FOUND', 'user not found');
    this.events.emit(PROFILE_UPDATED, { user: row } satisfies ProfileUpdatedEvent);
    return this.view(row, me.id);
  }

  async changeUsername(me: AuthUser, dto: UpdateUsernameDto): Promise<UserDto> {
    const user = await this.users.findAuthById(me.id);
    if (!user) throw bad('user not found');
    if (user.username_changed_at) {
      const remaining = user.username_changed_at.getTime() + COOLDOWN_MS - this.clock.now().getTime();
      if (remaining > 0) {
        const h = Math.floor(remaining / 3600000);
        const m = Math.floor((remaining % 3600000) / 60000);
        throw bad(`username can only be changed every 6 hours. Try again in ${h}h ${m}m`);
      }
    }
    if (!USERNAME_RE.test(dto.username)) throw bad('username must be 3-30 characters: letters, numbers, underscores only');
    if (await this.users.existsByLower('username', dto.username, me.id)) throw bad('username already taken');
    let row: UserRow | null;
    try {
      row = await this.users.updateUsername(me.id, dto.username);
    } catch (e) {
      if ((e as { driverError?: { constraint?: string } }).driverError?.constraint === 'UQ_users_username_lower') {
        throw bad('username already taken');
      }
      throw e;
    }
    if (!row) throw bad('user not found');
    this.events.emit(PROFILE_UPDATED, { user: row } satisfies ProfileUpdatedEvent);
    return this.view(row, me.id);
  }
}
