import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiPropertyOptional({ description: "Only in the caller's own user object" }) email?: string;
  @ApiProperty({ description: '"" when unset, else /static/uploads/…' }) avatar: string;
  @ApiProperty({ example: 'Hey there! I am using ChatApp' }) status: string;
  @ApiProperty() is_online: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) last_seen: string;
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time' }) updated_at: string;
}

export class UserListDto {
  @ApiProperty({ type: [UserDto] }) data: UserDto[];
}

export class AuthResponseDto {
  @ApiProperty() token: string;
  @ApiProperty({ type: UserDto }) user: UserDto;
}

export class MessageResponseDto {
  @ApiProperty() message: string;
}

export class ErrorDto {
  @ApiProperty() error: string;
  @ApiPropertyOptional() details?: unknown;
}
