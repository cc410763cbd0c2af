import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AuthRepository } from './auth.repository';

const EVERY_MS = 60 * 60 * 1000;

/** Deletes blacklist rows whose token has expired anyway (hourly, and once shortly after start). */
@Injectable()
export class BlacklistPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('BlacklistPurger');
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly repo: AuthRepository) {}

  onApplicationBootstrap(): void {
    this.timers.push(setTimeout(() => void this.purge(), 30_000).unref(), setInterval(() => void this.purge(), EVERY_MS).unref());
  }

  async purge(): Promise<number> {
    try {
      const n = await this.repo.purgeExpired();
      if (n > 0) this.logger.log({ removed: n }, 'purged expired blacklist rows');
      return n;
    } catch (err) {
      this.logger.warn({ err }, 'blacklist purge failed');
      return 0;
    }
  }

  onModuleDestroy(): void {
    this.timers.forEach((t) => clearTimeout(t));
  }
}
