import { Module } from '@nestjs/common';
import { RoomsModule } from '../rooms/rooms.module';
import { UsersModule } from '../users/users.module';
import { DmController } from './dm.controller';
import { DmListener } from './dm.listener';
import { DmRepository } from './dm.repository';
import { DmService } from './dm.service';

@Module({
  imports: [RoomsModule, UsersModule],
  controllers: [DmController],
  providers: [DmService, DmRepository, DmListener],
})
export class DmModule {}
