import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './app-config';
import { parseOrigins, validateEnv } from './env';

describe('validateEnv', () => {
  it('defaults every variable', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      APP_ENV: 'development',
      PORT: 8080,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      EMBEDDED_PG_PORT: 54329,
      DB_POOL_SIZE: 20,
      MIGRATIONS_RUN: true,
      ALLOWED_ORIGINS: 'http://localhost:8080,http://localhost:3000',
      RATE_LIMIT_AUTH_PER_MIN: 10,
      RATE_LIMIT_API_PER_MIN: 120,
      REDIS_PREFIX: 'chatapp',
      SHUTDOWN_TIMEOUT_MS: 10000,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.TRUST_PROXY).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  it('converts numbers and booleans from strings', () => {
    const env = validateEnv({ PORT: '9000', MIGRATIONS_RUN: 'false', DB_POOL_SIZE: '5', RATE_LIMIT_AUTH_PER_MIN: '3' });
    expect(env).toMatchObject({ PORT: 9000, MIGRATIONS_RUN: false, DB_POOL_SIZE: 5, RATE_LIMIT_AUTH_PER_MIN: 3 });
    expect(validateEnv({ MIGRATIONS_RUN: 'yes' }).MIGRATIONS_RUN).toBe(true);
    expect(validateEnv({ DATABASE_URL: '', REDIS_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('lists every bad variable at once', () => {
    let message = '';
    try {
      validateEnv({ PORT: 'eighty', APP_ENV: 'staging', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://r', DB_POOL_SIZE: '0', MIGRATIONS_RUN: 'maybe', LOG_LEVEL: 'loud' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration:/);
    for (const v of ['PORT', 'APP_ENV', 'DATABASE_URL', 'REDIS_URL', 'DB_POOL_SIZE', 'MIGRATIONS_RUN', 'LOG_LEVEL']) expect(message).toContain(`${v}=`);
  });

  it('JWT_SECRET: optional outside production, ≥ 32 characters when given or in production', () => {
    expect(() => validateEnv({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET must be at least 32 characters/);
    expect(() => loadConfig({ APP_ENV: 'production' })).toThrow(/JWT_SECRET is required in production/);
    expect(() => validateEnv({ APP_ENV: 'production', JWT_SECRET: 'x'.repeat(31) })).toThrow(/JWT_SECRET/);
    expect(validateEnv({ APP_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).JWT_SECRET).toBe('x'.repeat(32));
    expect(validateEnv({ APP_ENV: 'development' }).JWT_SECRET).toBeUndefined();
  });
});

describe('loadConfig', () => {
  it('outside production generates a secret once, keeps it in DATA_DIR and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatapp-env-'));
    try {
      const logs: string[] = [];
      const first = loadConfig({ DATA_DIR: dir }, (m) => logs.push(m));
      expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
      expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim()).toBe(first.jwtSecret);
      expect(logs.join('\n')).toContain('jwt-secret');
      const second = loadConfig({ DATA_DIR: dir });
      expect(second.jwtSecret).toBe(first.jwtSecret);
      expect(second.allowedOrigins).toEqual(['http://localhost:8080', 'http://localhost:3000']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseOrigins', () => {
  it('splits on commas, trims, drops empty entries, keeps exact strings', () => {
    expect(parseOrigins(' http://a.test , ,https://b.test/,')).toEqual(['http://a.test', 'https://b.test/']);
    expect(parseOrigins('')).toEqual([]);
  });
});
