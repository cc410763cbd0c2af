import type { Params } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import type { Options as HttpLoggerOptions } from 'pino-http';
import type { AppConfig } from '../../config/env';

/** Never logged: credentials, tokens, passwords (also nested ones). */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.token',
  'token',
  'password',
];

/**
 * nestjs-pino's Logger writes the app's own lines. Its request middleware is left off
 * (`forRoutes: []`): it runs every request inside an AsyncLocalStorage, which switches on Node's
 * async hooks for the whole process (every promise of every WebSocket frame pays for them: 3–4 %
 * of the server's busy time in a CPU profile under load), only to hand the request's logger to lines logged during the
 * request. Those lines name their request themselves (see HttpErrorFilter), and the batched work
 * a request starts (the message writer, presence) belongs to no single request. pino-http, with
 * the same options, logs each request: bootstrap mounts it right after the request id.
 */
export function loggerOptions(config: AppConfig): Params {
  return { pinoHttp: httpLoggerOptions(config), forRoutes: [] };
}

export function httpLoggerOptions(config: AppConfig): HttpLoggerOptions {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT, censor: '[redacted]' },
    // the request id middleware runs first and sets req.id (echoing X-Request-ID)
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? '',
    autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || (req.url ?? '').startsWith('/static/') },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    transport:
      config.APP_ENV === 'development' && process.stdout.isTTY && hasPretty()
        ? { target: 'pino-pretty', options: { singleLine: true } }
        : undefined,
  };
}

function hasPretty(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
