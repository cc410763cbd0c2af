import { Logger } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type Redis from 'ioredis';
import { createRedis } from './redis';

type Rec = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Rate-limit counters shared through Redis (several instances, one budget per client). While
 * Redis is unreachable the instance counts locally instead of failing requests.
 */
export class ResilientThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimitStorage');
  private readonly redisStore: ThrottlerStorageRedisService;
  private readonly local = new ThrottlerStorageService();
  /** this storage's own connection, opened here and closed at shutdown */
  private readonly redis: Redis;
  private lastWarn = 0;

  constructor(redisUrl: string) {
    this.redis = createRedis(redisUrl, 'chatapp-throttle');
    this.redisStore = new ThrottlerStorageRedisService(this.redis);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, name: string): Promise<Rec> {
    if (this.redis.status === 'ready') {
      try {
        return await this.redisStore.increment(key, ttl, limit, blockDuration, name);
      } catch (err) {
        this.warn(err);
      }
    } else {
      this.warn(new Error(`redis ${this.redis.status}`));
    }
    return this.local.increment(key, ttl, limit, blockDuration, name);
  }

  private warn(err: unknown): void {
    if (Date.now() - this.lastWarn < 5000) return;
    this.lastWarn = Date.now();
    this.logger.error({ err }, 'Redis unavailable: rate limits are counted per instance until it is back');
  }

  /**
   * Once the HTTP server is down, so that no late request meets a closed connection (and counts
   * locally with an error logged). The Redis store does not close a client it was given.
   */
  onApplicationShutdown(): void {
    this.local.onApplicationShutdown?.();
    this.redis.disconnect();
  }
}
