import { DataSource, DataSourceOptions } from 'typeorm';
import { TokenBlacklist } from '../modules/auth/token-blacklist.entity';
import { Message } from '../modules/messages/message.entity';
import { RoomMember } from '../modules/rooms/room-member.entity';
import { Room } from '../modules/rooms/room.entity';
import { Upload } from '../modules/upload/upload.entity';
import { User } from '../modules/users/user.entity';
import { InitialSchema1732400000000 } from './migrations/1732400000000-InitialSchema';
import { TimeOrderedMessageIds1764340000000 } from './migrations/1764340000000-TimeOrderedMessageIds';

export const ENTITIES = [User, Room, RoomMember, Message, TokenBlacklist, Upload];
export const MIGRATIONS = [InitialSchema1732400000000, TimeOrderedMessageIds1764340000000];

export interface DbOptions {
  url: string;
  poolSize?: number;
  queryTimeoutMs?: number;
  applicationName?: string;
}

/** The one DataSource definition, shared by the app, the migration CLI and the tests. */
export function dataSourceOptions(o: DbOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: o.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // Never log SQL: statements carry bound values (hashes, e-mails, token ids).
    logging: false,
    extra: {
      max: o.poolSize ?? 20,
      connectionTimeoutMillis: o.queryTimeoutMs ?? 5000,
      query_timeout: o.queryTimeoutMs ?? 5000,
      statement_timeout: o.queryTimeoutMs ?? 5000,
      application_name: o.applicationName ?? 'chatapp',
      keepAlive: true,
    },
  };
}

export function createDataSource(o: DbOptions): DataSource {
  return new DataSource(dataSourceOptions(o));
}

/** Applies pending migrations under a PostgreSQL advisory lock (instances starting together are safe). Needs a pool of ≥ 2: the lock holds one connection. */
export async function runMigrations(ds: DataSource): Promise<number> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(745219001)');
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.length;
  } finally {
    await runner.query('SELECT pg_advisory_unlock(745219001)').catch(() => undefined);
    await runner.release();
  }
}
