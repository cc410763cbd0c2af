import { Module } from '@nestjs/common';
import { RoomsModule } from '../rooms/rooms.module';
import { MessageWriter } from './message-writer';
import { MessagesController } from './messages.controller';
import { MessagesGateway } from './messages.gateway';
import { MessagesListener } from './messages.listener';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';

@Module({
  imports: [RoomsModule],
  controllers: [MessagesController],
  providers: [MessagesService, MessagesRepository, MessageWriter, MessagesListener, MessagesGateway],
  exports: [MessagesService],
})
export class MessagesModule {}
