import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { JwtAuthGuard } from './common/auth/jwt-auth.guard';
import { Clock } from './common/clock';
import { HttpErrorFilter } from './common/errors/http-error.filter';
import { AppThrottlerGuard } from './common/http/throttle';
import { loggerOptions } from './common/logging/logger.options';
import { createValidationPipe } from './common/validation/validation.pipe';
import { APP_CONFIG } from './config/app-config';
import type { AppConfig } from './config/env';
import { dataSourceOptions } from './database/data-source';
import { AuthModule } from './modules/auth/auth.module';
import { DmModule } from './modules/dm/dm.module';
import { HealthController } from './modules/health/health.controller';
import { MessagesModule } from './modules/messages/messages.module';
import { RoomsModule } from './modules/rooms/rooms.module';
import { UploadModule } from './modules/upload/upload.module';
import { UsersModule } from './modules/users/users.module';
import { HubModule } from './realtime/hub.module';
import { RealtimeModule } from './realtime/realtime.module';
import { ResilientThrottlerStorage } from './realtime/resilient-throttler.storage';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        LoggerModule.forRoot(loggerOptions(config)),
        EventEmitterModule.forRoot({ wildcard: false, maxListeners: 50 }),
        TypeOrmModule.forRoot({
          ...dataSourceOptions({ url: databaseUrl, poolSize: config.DB_POOL_SIZE, queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS }),
          retryAttempts: 3,
          retryDelay: 1000,
        }),
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'auth', ttl: 60_000, limit: config.RATE_LIMIT_AUTH_PER_MIN },
            { name: 'api', ttl: 60_000, limit: config.RATE_LIMIT_API_PER_MIN },
          ],
          // several instances share one budget per client through Redis
          storage: config.REDIS_URL ? new ResilientThrottlerStorage(config.REDIS_URL) : undefined,
        }),
        HubModule,
        UploadModule,
        RoomsModule,
        UsersModule,
        AuthModule,
        MessagesModule,
        DmModule,
        RealtimeModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        Clock,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_GUARD, useClass: AppThrottlerGuard },
      ],
      exports: [APP_CONFIG, Clock],
    };
  }
}
