import { ArgumentsHost, Catch, Controller, ExceptionFilter, HttpCode, HttpException, Post, UploadedFile, UseFilters, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiPayloadTooLargeResponse, ApiTags } from '@nestjs/swagger';
import { memoryStorage } from 'multer';
import { AuthUser } from '../../common/auth/auth-user';
import { CurrentUser } from '../../common/auth/decorators';
import { DomainError } from '../../common/errors/domain-error';
import { HttpErrorFilter } from '../../common/errors/http-error.filter';
import { ErrorDto } from '../users/dto/user.dto';
import { UploadBodyDto, UploadResultDto } from './dto/upload.dto';
import { IncomingFile, MAX_UPLOAD_BYTES, UploadService } from './upload.service';

/** Multer's errors in the protocol's texts: oversize → 413 "File too large…", any other multipart problem → 400 "No file provided". */
@Catch(HttpException)
class UploadErrorFilter implements ExceptionFilter {
  private readonly inner = new HttpErrorFilter();
  catch(e: HttpException, host: ArgumentsHost): void {
    const status = e.getStatus();
    const mapped =
      status === 413
        ? new DomainError('PAYLOAD_TOO_LARGE', 'File too large. Maximum size is 4 MB')
        : status === 400
          ? new DomainError('BAD_REQUEST', 'No file provided')
          : e;
    this.inner.catch(mapped, host);
  }
}

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
  @UseFilters(UploadErrorFilter)
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
