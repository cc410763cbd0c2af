import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const v = String(value).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
};
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * Every environment variable the server reads, with its default.
 * `.env.example` documents the same list; keep them in step.
 */
export class Env {
  @IsIn(['development', 'production', 'test'])
  APP_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 8080;

  @IsString()
  HOST = '0.0.0.0';

  /** PostgreSQL connection string. When unset an embedded PostgreSQL is started under DATA_DIR. */
  @Transform(emptyToUndefined) @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsString()
  DATA_DIR = './data';

  @Transform(toInt) @IsInt() @Min(1024) @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  @Transform(toInt) @IsInt() @Min(1) @Max(500)
  DB_POOL_SIZE = 20;

  /** Fail a database query (and the request) after this many ms instead of hanging. */
  @Transform(toInt) @IsInt() @Min(100) @Max(600000)
  DB_QUERY_TIMEOUT_MS = 5000;

  @Transform(toBool) @IsBoolean()
  MIGRATIONS_RUN = true;

  @Transform(emptyToUndefined) @IsOptional() @IsString()
  @ValidateIf((e: Env) => e.JWT_SECRET !== undefined || e.APP_ENV === 'production')
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters (try: openssl rand -hex 32)' })
  JWT_SECRET?: string;

  @IsString()
  ALLOWED_ORIGINS = 'http://localhost:8080,http://localhost:3000';

  /** Express "trust proxy" value: unset/false = key rate limits on the socket address. */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  TRUST_PROXY?: string;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL?: string;

  /** Prefix of every Redis key and channel (several deployments can share one Redis). */
  @Matches(/^[\w.-]{1,64}$/, { message: 'REDIS_PREFIX: letters, digits, _ . - only' })
  REDIS_PREFIX = 'chatapp';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toInt) @IsInt() @Min(1)
  RATE_LIMIT_AUTH_PER_MIN = 10;

  @Transform(toInt) @IsInt() @Min(1)
  RATE_LIMIT_API_PER_MIN = 120;

  @IsString()
  UPLOAD_DIR = './static/uploads';

  @IsString()
  STATIC_DIR = './static';

  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  WS_MAX_SOCKETS_PER_USER = 20;

  @Transform(toInt) @IsInt() @Min(1)
  WS_MAX_UNAUTHENTICATED = 1000;

  /** Per-socket event budget: burst size and refill per second. */
  @Transform(toInt) @IsInt() @Min(1)
  WS_EVENTS_BURST = 60;

  @Transform(toInt) @IsInt() @Min(1)
  WS_EVENTS_PER_SEC = 20;

  /** Outgoing bytes buffered for one socket before it is closed with 1013. */
  @Transform(toInt) @IsInt() @Min(1024)
  WS_MAX_BUFFERED_BYTES = 1048576;

  @Transform(toInt) @IsInt() @Min(1000)
  WS_PING_INTERVAL_MS = 30000;

  /** A `sync` further behind than this answers `resync_required`. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100000)
  SYNC_MAX_GAP = 1000;

  @Transform(toInt) @IsInt() @Min(0)
  SHUTDOWN_TIMEOUT_MS = 10000;
}

export type AppConfig = Env & { jwtSecret: string; allowedOrigins: string[] };

/** Validates `raw` (normally process.env) and lists every bad variable at once. */
export function validateEnv(raw: Record<string, unknown>): Env {
  const env = plainToInstance(Env, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  ${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return env;
}

export function parseOrigins(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
