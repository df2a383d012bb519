/**
 * The SQLite engine of the store (better-sqlite3): one file, write-ahead logging so that readers do
 * not wait for a writer, and a busy timeout so that concurrent writers (several CI jobs on one
 * machine) queue instead of failing. Every write transaction takes the write lock at its start
 * (BEGIN IMMEDIATE), so two writers never deadlock upgrading a read lock.
 */
import Database from 'better-sqlite3';
import type { Connection } from './store.js';

/** How long a writer waits for another's transaction before giving up. */
const busyTimeoutMs = 30_000;

const bindable = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v === undefined ? null : v);

export async function connectSqlite(path: string): Promise<Connection> {
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    dialect: 'sqlite',
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const statement = db.prepare(sql);
      const values = params.map(bindable);
      if (statement.reader) return statement.all(...values) as T[];
      statement.run(...values);
      return [];
    },
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn();
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
    async close(): Promise<void> {
      if (db.open) db.close();
    },
  };
}
