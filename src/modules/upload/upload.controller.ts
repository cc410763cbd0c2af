import { Controller, HttpCode, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiPayloadTooLargeResponse, ApiTags } from '@nestjs/swagger';
import { memoryStorage } from 'multer';
import { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/decorators';
import { ErrorDto } from '../users/dto/user.dto';
import { UploadBodyDto, UploadResultDto } from './dto/upload.dto';
import { IncomingFile, MAX_UPLOAD_BYTES, UploadService } from './upload.service';

@ApiTags('upload')
@ApiBearerAuth()
@Controller('api/v1/upload')
export class UploadController {
  constructor(private readonly uploads: UploadService) {}

  @Post()
  @HttpCode(200)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadBodyDto })
  @ApiOkResponse({ type: UploadResultDto })
  @ApiPayloadTooLargeResponse({ type: ErrorDto })
  @UseInterceptors(
    FileInterceptor('file', {
      storage: memoryStorage(),
      limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10, parts: 12, fieldSize: 4096 },
      defParamCharset: 'utf8',
    } as object),
  )
  upload(@CurrentUser() me: AuthUser, @UploadedFile() file: IncomingFile | undefined): Promise<UploadResultDto> {
    return this.uploads.upload(me, file);
  }
}
