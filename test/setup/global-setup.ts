import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource, runMigrations } from '../../src/database/data-source';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * Test database: TEST_DATABASE_URL when set (CI and developer machines have PostgreSQL), else an
 * embedded PostgreSQL in a temp dir. Either way a template database is migrated once with the
 * real migrations; each test file clones it (test/setup/db.ts).
 */
export default async function globalSetup(): Promise<void> {
  let admin = process.env.TEST_DATABASE_URL;
  if (admin) {
    process.stdout.write(`\n[test db] using TEST_DATABASE_URL (${new URL(admin).host})\n`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'chatapp-test-pg-'));
    const { chmodSync } = await import('node:fs');
    chmodSync(dir, 0o777);
    const port = 55000 + Math.floor(Math.random() * 2000);
    const db = await startEmbeddedPostgres({ dataDir: dir, port, database: 'postgres' });
    (globalThis as { __EMBEDDED_PG__?: unknown }).__EMBEDDED_PG__ = db;
    admin = db.url;
    process.stdout.write(`\n[test db] started embedded PostgreSQL on port ${port}\n`);
  }
  const template = `chatapp_template_${process.pid}`;
  const c = new Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${template}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = '/' + template;
  const ds = createDataSource({ url: u.toString(), poolSize: 2, queryTimeoutMs: 120_000 });
  await ds.initialize();
  await runMigrations(ds);
  await ds.destroy();
  process.env.CHATAPP_TEST_ADMIN_URL = admin;
  process.env.CHATAPP_TEST_TEMPLATE = template;
}
