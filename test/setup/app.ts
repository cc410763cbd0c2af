import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { INestApplication } from '@nestjs/common';
import { startApp, prepareDatabase } from '../../src/bootstrap';
import { Clock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/app-config';
import type { AppConfig } from '../../src/config/env';
import { freshDatabase } from './db';

export const TEST_JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface TestApp {
  app: INestApplication;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port>/api/v1/ws */
  wsUrl: string;
  port: number;
  config: AppConfig;
  ds: DataSource;
  clock: Clock;
  dbUrl: string;
  /** graceful shutdown of the app (keeps the database) */
  stop(): Promise<void>;
  /** stop + drop the database */
  close(): Promise<void>;
}

/**
 * Boots the real app on a random port against a fresh database cloned from the migrated
 * template. `env` overrides configuration (e.g. RATE_LIMIT_AUTH_PER_MIN).
 */
export async function createTestApp(env: Record<string, string> = {}, opts: { dbUrl?: string } = {}): Promise<TestApp> {
  const db = opts.dbUrl ? null : await freshDatabase();
  const dbUrl = opts.dbUrl ?? db!.url;
  const dataDir = mkdtempSync(join(tmpdir(), 'chatapp-test-'));
  const config = loadConfig({
    APP_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    UPLOAD_DIR: join(dataDir, 'uploads'),
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RATE_LIMIT_AUTH_PER_MIN: '100000',
    RATE_LIMIT_API_PER_MIN: '100000',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...env,
  });
  await prepareDatabase(dbUrl, config);
  const started = await startApp(config, dbUrl);
  const app = started.app;
  const stop = () => started.shutdown();
  return {
    app,
    url: started.url,
    wsUrl: started.url.replace(/^http/, 'ws') + '/api/v1/ws',
    port: started.port,
    config,
    ds: app.get(DataSource),
    clock: app.get(Clock),
    dbUrl,
    stop,
    close: async () => {
      await stop();
      await db?.drop();
    },
  };
}
