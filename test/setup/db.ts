import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Connection info the global setup publishes to the test workers (through the environment). */
export function adminUrl(): string {
  const url = process.env.CHATAPP_TEST_ADMIN_URL;
  if (!url) throw new Error('test database not set up (jest globalSetup did not run)');
  return url;
}

export function templateName(): string {
  return process.env.CHATAPP_TEST_TEMPLATE ?? 'chatapp_template';
}

/** Databases of this jest run (several runs may share one PostgreSQL). */
export function testDbPrefix(): string {
  return `chat_t_${templateName().replace(/\D/g, '')}_`;
}

export function urlFor(db: string): string {
  const u = new URL(adminUrl());
  u.pathname = '/' + db;
  return u.toString();
}

export async function adminQuery(sql: string): Promise<void> {
  const c = new Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh database cloned from the migrated template: one per test file (or per app). */
export async function freshDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${testDbPrefix()}${randomBytes(6).toString('hex')}`;
  // CREATE DATABASE … TEMPLATE fails while another session is connected to the template; retry.
  for (let i = 0; ; i++) {
    try {
      await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${templateName()}`);
      break;
    } catch (e) {
      if (i > 20) throw e;
      await new Promise((r) => setTimeout(r, 100 + i * 50));
    }
  }
  return {
    name,
    url: urlFor(name),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined),
  };
}
