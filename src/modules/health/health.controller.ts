import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../../common/auth/decorators';
import { RealtimeService } from '../../realtime/realtime.service';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly realtime: RealtimeService,
  ) {}

  @Get('health')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ description: 'liveness: {"status":"ok","service":"chatapp"}' })
  health() {
    return { status: 'ok', service: 'chatapp' };
  }

  @Get('ready')
  @Public()
  @ApiOkResponse({ description: 'database (and Redis, when configured) reachable' })
  @ApiServiceUnavailableResponse({ description: 'a dependency is down' })
  async ready(@Res({ passthrough: true }) res: Response) {
    const checks: Record<string, string> = {};
    try {
      await Promise.race([
        this.ds.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      checks.database = 'ok';
    } catch {
      checks.database = 'down';
    }
    checks.realtime = this.realtime.isHealthy() ? 'ok' : 'down';
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not ready', checks };
  }
}
