import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { MessageDto } from '../../messages/dto/message.dto';
import { RoomDto } from '../../rooms/dto/room.dto';
import { UserDto } from '../../users/dto/user.dto';

export class CreateDmDto {
  @ApiProperty({ format: 'uuid' })
  @IsString() @IsNotEmpty() @MaxLength(64)
  recipient_id: string;
}

export class DmRoomDto {
  @ApiProperty({ type: RoomDto }) room: RoomDto;
  @ApiProperty({ type: UserDto }) other_user: UserDto;
  @ApiProperty({ type: MessageDto }) last_message: MessageDto;
  @ApiProperty() unread_count: number;
}

export class DmListDto {
  @ApiProperty({ type: [DmRoomDto] }) data: DmRoomDto[];
}
