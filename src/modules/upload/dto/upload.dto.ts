import { ApiProperty } from '@nestjs/swagger';

export class UploadResultDto {
  @ApiProperty({ example: '/static/uploads/1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed.png' }) url: string;
  @ApiProperty({ description: 'original client file name' }) file_name: string;
  @ApiProperty() file_size: number;
  @ApiProperty() is_image: boolean;
  @ApiProperty() is_audio: boolean;
  @ApiProperty({ format: 'uuid' }) uploaded_by: string;
}

export class UploadBodyDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'at most 4 MB' }) file: unknown;
}
