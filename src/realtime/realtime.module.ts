import { Module } from '@nestjs/common';
import { AuthModule } from '../modules/auth/auth.module';
import { ConnectionGateway } from './connection.gateway';

/** The socket entry point: authenticates connections with the auth feature's TokenService. */
@Module({
  imports: [AuthModule],
  providers: [ConnectionGateway],
})
export class RealtimeModule {}
