import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig, parseOrigins, validateEnv } from './env';

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Builds the typed configuration once, at start-up. Outside production a missing JWT_SECRET is
 * generated and kept in DATA_DIR so tokens survive restarts; in production it is required.
 */
export function loadConfig(
  raw: Record<string, unknown> = process.env,
  log: (msg: string) => void = () => undefined,
): AppConfig {
  const env = validateEnv(raw);
  let jwtSecret = env.JWT_SECRET;
  if (!jwtSecret) {
    if (env.APP_ENV === 'production') {
      throw new Error('Invalid configuration:\n  JWT_SECRET is required in production (at least 32 characters)');
    }
    mkdirSync(env.DATA_DIR, { recursive: true });
    const file = join(env.DATA_DIR, 'jwt-secret');
    if (existsSync(file)) {
      jwtSecret = readFileSync(file, 'utf8').trim();
    } else {
      jwtSecret = randomBytes(48).toString('hex');
      writeFileSync(file, jwtSecret + '\n', { mode: 0o600 });
      log(`JWT_SECRET not set: generated a random secret and stored it in ${file}`);
    }
    if (jwtSecret.length < 32) throw new Error(`Invalid configuration:\n  ${file} holds a secret shorter than 32 characters`);
  }
  return Object.assign(env, { jwtSecret, allowedOrigins: parseOrigins(env.ALLOWED_ORIGINS) });
}
