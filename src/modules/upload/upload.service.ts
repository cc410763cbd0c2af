import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import { AuthUser } from '../../common/auth/auth-user';
import { DomainError } from '../../common/errors/domain-error';
import { charLength, hasInvalidText } from '../../common/validation/uuid';
import { UploadResultDto } from './dto/upload.dto';
import { sniff } from './file-sniffer';
import { UploadRepository } from './upload.repository';
import { StorageService } from './storage.service';

export const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;
export const UPLOAD_URL_PREFIX = '/static/uploads/';
export const MAX_FILE_NAME_CHARS = 255;
const STORED_NAME = /^[0-9a-f-]{36}\.[a-z0-9]{2,5}$/;

export interface IncomingFile {
  originalname: string;
  size: number;
  buffer: Buffer;
}

@Injectable()
export class UploadService {
  constructor(
    private readonly repo: UploadRepository,
    private readonly storage: StorageService,
  ) {}

  async upload(me: AuthUser, file: IncomingFile | undefined): Promise<UploadResultDto> {
    if (!file || !file.buffer) throw new DomainError('BAD_REQUEST', 'No file provided');
    if (file.size > MAX_UPLOAD_BYTES) throw new DomainError('PAYLOAD_TOO_LARGE', 'File too large. Maximum size is 4 MB');
    const original = sanitizeFileName(file.originalname);
    const ext = extname(original).toLowerCase();
    const result = sniff(ext, file.buffer);
    if (!result.ok) {
      if (!['.jpg', '.jpeg', '.png', '.gif', '.webp', '.pdf', '.doc', '.docx', '.xls', '.xlsx', '.txt', '.zip', '.csv', '.mp3', '.ogg', '.wav', '.webm', '.m4a'].includes(ext)) {
        throw new DomainError('BAD_REQUEST', `File type ${ext} is not allowed`);
      }
      throw new DomainError('BAD_REQUEST', `File content type '${result.actual}' is not allowed`);
    }
    const storedName = `${randomUUID()}${ext}`;
    await this.storage.save(storedName, file.buffer);
    try {
      await this.repo.insert({ storedName, originalName: original, mime: result.file.mime, size: file.size, uploadedBy: me.id });
    } catch (e) {
      await this.storage.remove(storedName);
      throw e;
    }
    return {
      url: UPLOAD_URL_PREFIX + storedName,
      file_name: original,
      file_size: file.size,
      is_image: result.file.isImage,
      is_audio: result.file.isAudio,
      uploaded_by: me.id,
    };
  }

  /** True when `url` names a file uploaded to this server (`/static/uploads/<stored name>`). */
  async isUploadedUrl(url: string): Promise<boolean> {
    if (typeof url !== 'string' || !url.startsWith(UPLOAD_URL_PREFIX)) return false;
    const name = url.slice(UPLOAD_URL_PREFIX.length);
    if (!STORED_NAME.test(name)) return false;
    return this.repo.exists(name);
  }
}

/** Keeps the client's name as plain text: no path, no control characters, bounded length. */
export function sanitizeFileName(name: unknown): string {
  let s = typeof name === 'string' ? name : '';
  s = s.replace(/^.*[\\/]/, '');
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f]/g, '');
  if (hasInvalidText(s)) s = s.replace(/[\ud800-\udfff]/g, '');
  if (charLength(s) > MAX_FILE_NAME_CHARS) s = Array.from(s).slice(-MAX_FILE_NAME_CHARS).join('');
  return s || 'file';
}
