import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { UserDto } from '../../users/dto/user.dto';

export class MessageDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) room_id: string;
  @ApiProperty({ format: 'uuid' }) sender_id: string;
  @ApiProperty({ type: UserDto }) sender: UserDto;
  @ApiProperty({ description: '"" for deleted messages' }) content: string;
  @ApiProperty({ enum: ['text', 'image', 'file', 'audio'] }) type: string;
  @ApiPropertyOptional() file_url?: string;
  @ApiPropertyOptional() file_name?: string;
  @ApiPropertyOptional() file_size?: number;
  @ApiProperty() is_edited: boolean;
  @ApiProperty() is_deleted: boolean;
  @ApiPropertyOptional({ format: 'uuid' }) reply_to_id?: string;
  @ApiPropertyOptional({ type: () => MessageDto, description: 'the replied-to message with its sender' }) reply_to?: MessageDto;
  @ApiProperty({ description: 'position in the room sequence when created (extension)' }) seq: number;
  @ApiProperty({ description: 'room sequence number of the latest change (extension)' }) version: number;
  @ApiPropertyOptional({ format: 'uuid', description: "the sender's idempotency key (extension)" }) client_msg_id?: string;
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time' }) updated_at: string;
}

/** REST body for POST /rooms/:id/messages: the WebSocket send_message payload without room_id. */
export class SendMessageBodyDto {
  @ApiPropertyOptional({ maxLength: 2000, description: 'text, or caption of a file message' }) content?: string;
  @ApiPropertyOptional({ enum: ['text', 'image', 'file', 'audio'], default: 'text' }) type?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'a message of the same room' }) reply_to_id?: string;
  @ApiPropertyOptional({ description: 'URL returned by POST /upload' }) file_url?: string;
  @ApiPropertyOptional({ maxLength: 255 }) file_name?: string;
  @ApiPropertyOptional() file_size?: number;
  @ApiPropertyOptional({ format: 'uuid', description: 'idempotency key: a retry with the same id returns the original' })
  client_msg_id?: string;
}

export class EditMessageDto {
  @ApiProperty({ maxLength: 2000 })
  @IsString()
  content: string;
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageDto] }) data: MessageDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty() total_pages: number;
  @ApiProperty({ format: 'date-time', nullable: true, description: "DM partner's read time (direct rooms)" })
  partner_read_at: Date | null;
}

export class ChangesDto {
  @ApiProperty({ type: [MessageDto], description: 'messages whose version > after, ascending by version' })
  data: MessageDto[];
  @ApiProperty({ description: 'the room sequence when read' }) last_seq: number;
  @ApiProperty() has_more: boolean;
  @ApiProperty({ description: 'true when the gap exceeds the server limit: reload history instead' })
  resync_required: boolean;
}
