import { Module } from '@nestjs/common';
import { DiskStorageService, StorageService } from './storage.service';
import { UploadController } from './upload.controller';
import { UploadRepository } from './upload.repository';
import { UploadService } from './upload.service';

@Module({
  controllers: [UploadController],
  providers: [UploadService, UploadRepository, { provide: StorageService, useClass: DiskStorageService }],
  exports: [UploadService],
})
export class UploadModule {}
