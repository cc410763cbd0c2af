import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { UserDto } from '../../users/dto/user.dto';

export class CreateRoomDto {
  @ApiProperty({ minLength: 3, maxLength: 50, example: 'General' })
  @IsString() @Length(3, 50)
  name: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ enum: ['public', 'private'], default: 'public' })
  @Transform(({ value }) => (value === '' || value === null ? undefined : value))
  @IsOptional() @IsIn(['public', 'private'])
  type?: 'public' | 'private';
}

export class AddMemberDto {
  @ApiProperty({ format: 'uuid' })
  @IsString() @MaxLength(64)
  user_id: string;
}

export class UpdateMemberDto {
  @ApiProperty({ enum: ['admin', 'member'] })
  @IsIn(['admin', 'member'])
  role: 'admin' | 'member';
}

export class RoomMemberDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) room_id: string;
  @ApiProperty({ format: 'uuid' }) user_id: string;
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ enum: ['admin', 'member'] }) role: string;
  @ApiPropertyOptional({ format: 'date-time' }) read_at?: Date;
  @ApiProperty({ format: 'date-time' }) joined_at: Date;
}

export class RoomDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ['public', 'private', 'direct'] }) type: string;
  @ApiProperty({ format: 'uuid' }) created_by: string;
  @ApiProperty({ type: UserDto }) creator: UserDto;
  @ApiPropertyOptional({ type: [RoomMemberDto] }) members?: RoomMemberDto[];
  @ApiPropertyOptional({ format: 'date-time' }) last_message_at?: Date;
  @ApiProperty({ description: 'the room sequence: number of message changes so far (extension)' }) last_seq: number;
  @ApiProperty({ format: 'date-time' }) created_at: Date;
  @ApiProperty({ format: 'date-time' }) updated_at: Date;
}

export class RoomPageDto {
  @ApiProperty({ type: [RoomDto] }) data: RoomDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty() total_pages: number;
}

export class RoomListDto {
  @ApiProperty({ type: [RoomDto] }) data: RoomDto[];
}
