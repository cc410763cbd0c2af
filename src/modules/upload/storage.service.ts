import { Inject, Injectable } from '@nestjs/common';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { APP_CONFIG } from '../../config/app-config';
import type { AppConfig } from '../../config/env';

/** Where uploaded bytes go. Disk in the app; tests may swap in another implementation. */
export abstract class StorageService {
  abstract save(name: string, data: Buffer): Promise<void>;
  abstract remove(name: string): Promise<void>;
}

@Injectable()
export class DiskStorageService extends StorageService {
  private readonly dir: string;
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.dir = resolve(config.UPLOAD_DIR);
  }
  async save(name: string, data: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, name), data, { flag: 'wx', mode: 0o644 });
  }
  async remove(name: string): Promise<void> {
    await unlink(join(this.dir, name)).catch(() => undefined);
  }
}
