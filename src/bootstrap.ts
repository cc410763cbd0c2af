import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { pinoHttp } from 'pino-http';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { cors, requestId, securityHeaders, staticFiles } from './common/http/middleware';
import { HttpErrorFilter } from './common/errors/http-error.filter';
import { httpLoggerOptions } from './common/logging/logger.options';
import type { AppConfig } from './config/env';
import { createDataSource, runMigrations } from './database/data-source';
import { ChatWsAdapter } from './realtime/chat-ws.adapter';
import { ConnectionHub } from './realtime/connection-hub';
import { TokenService } from './modules/auth/token.service';

export interface StartedApp {
  app: NestExpressApplication;
  /** base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** graceful: drain sockets, finish requests (bounded), close the pool */
  shutdown(): Promise<void>;
}

/** Applies pending migrations (advisory lock) and resets presence flags left by a previous run. */
export async function prepareDatabase(url: string, config: AppConfig): Promise<number> {
  const ds = createDataSource({ url, poolSize: 2, queryTimeoutMs: Math.max(config.DB_QUERY_TIMEOUT_MS, 60_000) });
  await ds.initialize();
  try {
    const applied = config.MIGRATIONS_RUN ? await runMigrations(ds) : 0;
    if (!config.REDIS_URL) {
      // One instance: nobody can be online before we accept sockets. (With Redis, presence is
      // shared and each instance clears only what it owned.)
      await ds.query('UPDATE users SET is_online = false WHERE is_online');
    }
    return applied;
  } finally {
    await ds.destroy();
  }
}

export async function buildApp(config: AppConfig, databaseUrl: string): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  if (config.TRUST_PROXY && !/^(false|0|no)$/i.test(config.TRUST_PROXY)) {
    const v = config.TRUST_PROXY;
    app.set('trust proxy', /^\d+$/.test(v) ? Number(v) : v === 'true' ? true : v);
  } else {
    app.set('trust proxy', false);
  }
  app.disable('x-powered-by');
  app.use(requestId());
  app.use(pinoHttp(httpLoggerOptions(config)));
  app.use(cors(config.allowedOrigins));
  app.use(securityHeaders());
  app.use(staticFiles(config.STATIC_DIR, config.UPLOAD_DIR));
  app.use(
    express.json({
      limit: '64kb',
      strict: true,
      // the original never checked Content-Type: JSON bodies are parsed whatever it says (not multipart)
      type: (req) => !String(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/'),
    }),
  );
  // body-parser errors never reach Nest's filters: answer them in the protocol's shape here
  const filter = new HttpErrorFilter();
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    filter.catch(err, { getType: () => 'http', switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }) } as never);
  });

  const hub = app.get(ConnectionHub);
  const tokens = app.get(TokenService);
  app.useWebSocketAdapter(
    new ChatWsAdapter(app, hub, {
      allowedOrigins: config.allowedOrigins,
      authenticateHeader: (t) => tokens.authenticate(t),
    }),
  );

  const doc = new DocumentBuilder()
    .setTitle('ChatApp API')
    .setDescription('REST API of ChatApp. Realtime events: see docs/realtime.md (WebSocket at /api/v1/ws).')
    .setVersion('1.0.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, doc);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });

  // No enableShutdownHooks: with [] Nest listens to every signal, closes the modules under the
  // graceful shutdown of main.ts and re-kills the process (SIGTERM ended with a signal, not exit 0).
  // main.ts owns SIGTERM/SIGINT; app.close() still runs every shutdown hook.
  return app;
}

/** Builds, listens, and returns a handle whose shutdown() is graceful. */
export async function startApp(config: AppConfig, databaseUrl: string): Promise<StartedApp> {
  const app = await buildApp(config, databaseUrl);
  await app.listen(config.PORT, config.HOST);
  const server = app.getHttpServer();
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  let closing: Promise<void> | null = null;
  const shutdown = () =>
    (closing ??= (async () => {
      const log = new NestLogger('Shutdown');
      const deadline = config.SHUTDOWN_TIMEOUT_MS;
      const hub = app.get(ConnectionHub);
      // 1. stop accepting connections; 2. let sockets finish what they sent, then 1001;
      // 3. finish in-flight HTTP requests (bounded); 4. close the pool.
      const closed = new Promise<void>((r) => server.close(() => r()));
      await hub.drain(Math.min(deadline, 5000));
      server.closeIdleConnections?.();
      await Promise.race([closed, new Promise((r) => setTimeout(r, deadline).unref())]);
      server.closeAllConnections?.();
      await app.close();
      log.log('stopped');
    })());
  return { app, url: `http://${host}:${port}`, port, shutdown };
}

export function dataSourceOf(app: INestApplication): DataSource {
  return app.get(DataSource);
}
