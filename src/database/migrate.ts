import 'reflect-metadata';
import { loadConfig } from '../config/app-config';
import { createDataSource, runMigrations } from './data-source';
import { startEmbeddedPostgres } from './embedded-postgres';

/** `npm run db:migrate`: apply pending migrations and exit (for deployments with MIGRATIONS_RUN=false). */
async function main(): Promise<void> {
  const config = loadConfig();
  const embedded = config.DATABASE_URL ? null : await startEmbeddedPostgres({ dataDir: config.DATA_DIR, port: config.EMBEDDED_PG_PORT });
  const ds = createDataSource({ url: config.DATABASE_URL ?? embedded!.url, poolSize: 2, queryTimeoutMs: 600_000 });
  await ds.initialize();
  try {
    const n = await runMigrations(ds);
    process.stdout.write(`applied ${n} migration(s)\n`);
  } finally {
    await ds.destroy();
    await embedded?.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`migration failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
