import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsNotEmpty, IsOptional, IsString, Length, MaxLength, MinLength } from 'class-validator';

export class RegisterDto {
  @ApiProperty({ minLength: 3, maxLength: 30, example: 'alice' })
  @IsString() @Length(3, 30)
  username: string;

  @ApiProperty({ example: 'alice@example.com' })
  @IsString() @MaxLength(254) @IsEmail()
  email: string;

  @ApiProperty({ minLength: 6, description: 'at least one letter and one digit; at most 72 bytes' })
  @IsString() @MinLength(6) @MaxLength(1024)
  password: string;
}

export class LoginDto {
  @ApiPropertyOptional({ description: 'email (takes priority) …' })
  @IsOptional() @IsString() @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ description: '… or username' })
  @IsOptional() @IsString() @MaxLength(254)
  username?: string;

  @ApiProperty()
  @IsString() @IsNotEmpty() @MaxLength(1024)
  password: string;
}

export class UpdateProfileDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional() @IsString() @MaxLength(200)
  status?: string;

  @ApiPropertyOptional({ description: 'URL of a file uploaded to this server (/static/uploads/…), or ""' })
  @IsOptional() @IsString() @MaxLength(300)
  avatar?: string;
}

export class UpdateUsernameDto {
  @ApiProperty({ minLength: 3, maxLength: 30 })
  @IsString() @Length(3, 30)
  username: string;
}

export class UpdateEmailDto {
  @ApiProperty()
  @IsString() @MaxLength(254) @IsEmail()
  email: string;

  @ApiProperty()
  @IsString() @IsNotEmpty() @MaxLength(1024)
  current_password: string;
}

export class UpdatePasswordDto {
  @ApiProperty()
  @IsString() @IsNotEmpty() @MaxLength(1024)
  current_password: string;

  @ApiProperty({ minLength: 6 })
  @IsString() @MinLength(6) @MaxLength(1024)
  new_password: string;
}
