import { Global, Module } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { APP_CONFIG } from '../config/app-config';
import type { AppConfig } from '../config/env';
import { ConnectionHub } from './connection-hub';
import { RealtimeService } from './realtime.service';
import { RedisRealtimeService } from './redis-realtime.service';

/**
 * The hub and the delivery API. In-process by default; with REDIS_URL the same interface is
 * backed by Redis pub/sub so several instances share events, presence and revocations.
 * Global so every feature listener can push without import cycles.
 */
@Global()
@Module({
  providers: [
    ConnectionHub,
    {
      provide: RealtimeService,
      inject: [ConnectionHub, EventEmitter2, APP_CONFIG],
      useFactory: (hub: ConnectionHub, events: EventEmitter2, config: AppConfig) =>
        config.REDIS_URL ? new RedisRealtimeService(hub, events, config) : new RealtimeService(hub, events),
    },
  ],
  exports: [ConnectionHub, RealtimeService],
})
export class HubModule {}
