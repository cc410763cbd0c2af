import { Global, Module } from '@nestjs/common';
import { ConnectionHub } from './connection-hub';
import { RealtimeService } from './realtime.service';

/** The hub and the delivery API. Global so every feature listener can push without import cycles. */
@Global()
@Module({
  providers: [ConnectionHub, RealtimeService],
  exports: [ConnectionHub, RealtimeService],
})
export class HubModule {}
