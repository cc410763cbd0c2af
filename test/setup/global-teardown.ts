import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const admin = process.env.CHATAPP_TEST_ADMIN_URL;
  const template = process.env.CHATAPP_TEST_TEMPLATE;
  if (admin && template) {
    const c = new Client({ connectionString: admin });
    await c.connect().catch(() => undefined);
    // test databases left behind by crashed files, and the template
    const r = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`chat_t_${template.replace(/\D/g, '')}_%`]).catch(() => ({ rows: [] }));
    for (const row of r.rows as { datname: string }[]) await c.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`).catch(() => undefined);
    await c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
    await c.end().catch(() => undefined);
  }
  const embedded = (globalThis as { __EMBEDDED_PG__?: { stop(): Promise<void> } }).__EMBEDDED_PG__;
  if (embedded) await embedded.stop();
}
