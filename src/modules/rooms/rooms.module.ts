import { Module } from '@nestjs/common';
import { RoomAccess } from './rooms.access';
import { RoomsController } from './rooms.controller';
import { RoomsGateway } from './rooms.gateway';
import { RoomsListener } from './rooms.listener';
import { RoomsRepository } from './rooms.repository';
import { RoomsService } from './rooms.service';

@Module({
  controllers: [RoomsController],
  providers: [RoomsService, RoomsRepository, RoomAccess, RoomsListener, RoomsGateway],
  exports: [RoomsService, RoomAccess, RoomsRepository],
})
export class RoomsModule {}
