/**
 * The PostgreSQL engine of the store (node-postgres): one client per store, each run recorded in
 * one transaction, and migrations serialised by a transaction-scoped advisory lock so that jobs
 * starting together on an empty database create the schema once. The connection string (or the
 * PG* variables node-postgres reads) is the only source of credentials.
 */
import pg from 'pg';
import type { Connection } from './store.js';

/** The advisory lock key of model-audit's migrations (any fixed number; this one spells "maud"). */
const migrationLock = 0x6d617564;

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the store's SQL has no `?` in its literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export async function connectPostgres(url: string): Promise<Connection> {
  const client = new pg.Client({ connectionString: url, application_name: 'model-audit', connectionTimeoutMillis: 15_000 });
  // A dropped connection surfaces in the next query; without a listener it would end the process.
  client.on('error', () => {});
  await client.connect();
  const query = async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => (await client.query(numbered(sql), params as unknown[])).rows as T[];
  return {
    dialect: 'postgres',
    query,
    async transaction<T>(fn: () => Promise<T>, migrating = false): Promise<T> {
      await client.query('BEGIN');
      try {
        if (migrating) await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLock]);
        const result = await fn();
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    },
    async close(): Promise<void> {
      await client.end().catch(() => {});
    },
  };
}
