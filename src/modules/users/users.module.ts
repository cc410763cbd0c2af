import { Module } from '@nestjs/common';
import { RoomsModule } from '../rooms/rooms.module';
import { UploadModule } from '../upload/upload.module';
import { PresenceAnnouncer } from './presence.announcer';
import { UsersController } from './users.controller';
import { UsersListener } from './users.listener';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [UploadModule, RoomsModule],
  controllers: [UsersController],
  providers: [UsersService, UsersRepository, UsersListener, PresenceAnnouncer],
  exports: [UsersService, UsersRepository],
})
export class UsersModule {}
