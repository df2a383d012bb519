/**
 * The results store: every audit recorded as one run (in one transaction, so a half-written run is
 * never seen), its key metrics, budgets and findings as rows, and the whole JSON report. One
 * interface, two engines: SQLite (a file, the default) and PostgreSQL (for teams), with one schema
 * migrated in numbered steps. Credentials come only from the URL or the environment and are never
 * printed: every message names the store with its password hidden.
 */
import { createHash } from 'node:crypto';
import { packageVersion } from '../audit/audit.js';
import { OptionsError, StoreError } from '../errors.js';
import { measuredOptions } from '../model/options.js';
import { reportSchemaVersion, type AuditReport } from '../report/json.js';
import { machineFingerprint, runContext, type RunContext } from './context.js';
import { keyMetrics, type MetricName } from './metrics.js';
import { migrations, storeSchemaVersion, versionTable, type Dialect } from './schema.js';

/** One connection to a database, in the words both engines share. Placeholders are `?`. */
export interface Connection {
  readonly dialect: Dialect;
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction; `migrating` also takes the lock that keeps two migrations apart. */
  transaction<T>(fn: () => Promise<T>, migrating?: boolean): Promise<T>;
  close(): Promise<void>;
}

export interface RecordedRun {
  id: number;
  metrics: number;
  seriesKey: string;
  machineId: string;
}

export interface HistoryFilter {
  /** The model's file name (as recorded), or a prefix of its sha256 (at least 8 hex digits). */
  model?: string;
  runtime?: 'onnx' | 'tflite';
  /** A machine id prefix, a machine label (MODEL_AUDIT_MACHINE), or part of the CPU model. */
  machine?: string;
  branch?: string;
  metric?: MetricName;
  /** Only the most recent this many runs that match. @default 1000 */
  limit?: number;
}

/** A stored run, without its report. */
export interface StoredRun {
  id: number;
  createdAt: string;
  recordedAt: string;
  passed: boolean;
  complete: boolean;
  modelName: string;
  modelSha256: string;
  runtime: string;
  runtimeVersion: string;
  seriesKey: string;
  machineId: string;
  machineLabel: string | null;
  cpuModel: string;
  gitCommit: string | null;
  gitBranch: string | null;
  ciProvider: string | null;
  ciRunId: string | null;
}

/** One metric of one run, with what identifies its series. */
export interface HistoryPoint extends StoredRun {
  metric: MetricName;
  inputClass: string;
  unit: string;
  value: number;
}

export interface ResultStore {
  readonly dialect: Dialect;
  /** The store's URL with any password hidden. */
  readonly location: string;
  /** Records a report (and where it ran) as one run, in one transaction. */
  record(report: AuditReport, context?: RunContext): Promise<RecordedRun>;
  runs(filter?: HistoryFilter): Promise<StoredRun[]>;
  /** The metric rows of the matching runs, oldest first. */
  points(filter?: HistoryFilter): Promise<HistoryPoint[]>;
  /** The full report of a run, or null when there is no such run. */
  report(id: number): Promise<AuditReport | null>;
  /** The schema version the store is at. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/** The URL with its password (and any password parameter) replaced by ***. */
export function redactStoreUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

/** The model's name in a history: its file name, or `(demo)` for the built-in model. */
function modelName(report: AuditReport): string {
  return report.model.path?.split(/[\\/]/).pop() || '(demo)';
}

/** Runs of one model are comparable when they were opened and fed alike: the hash of both. */
export function seriesKey(report: AuditReport): string {
  const i = report.inputs as unknown as Record<string, unknown>;
  const inputs = { source: i.source, sets: i.sets, order: i.order, seed: i.seed, values: i.values, shapes: i.shapes };
  return createHash('sha256').update(JSON.stringify({ options: measuredOptions(report.model.options), inputs })).digest('hex').slice(0, 12);
}

function checkReport(report: AuditReport): void {
  if (typeof report !== 'object' || report === null || report.tool?.name !== 'model-audit' || typeof report.steps !== 'object') {
    throw new StoreError('not a model-audit report (no "tool": "model-audit" and "steps"): nothing recorded');
  }
  const v = report.schemaVersion as number;
  if (!Number.isInteger(v) || v < 1) throw new StoreError(`the report's schemaVersion is ${JSON.stringify(v)}, not a version: nothing recorded`);
  if (v > reportSchemaVersion) {
    throw new StoreError(`the report is of schema version ${v}, newer than this model-audit ${packageVersion} stores (up to ${reportSchemaVersion}): upgrade model-audit; nothing recorded`, { schema: true });
  }
}

const runColumns = `r.id, r.created_at, r.recorded_at, r.passed, r.complete, r.model_name, r.model_sha256, r.runtime, r.runtime_version,
  r.series_key, r.machine_id, r.machine_label, r.cpu_model, r.git_commit, r.git_branch, r.ci_provider, r.ci_run_id`;

/* eslint-disable @typescript-eslint/no-explicit-any */
function storedRun(row: any): StoredRun {
  return {
    id: Number(row.id),
    createdAt: row.created_at,
    recordedAt: row.recorded_at,
    passed: Boolean(row.passed),
    complete: Boolean(row.complete),
    modelName: row.model_name,
    modelSha256: row.model_sha256,
    runtime: row.runtime,
    runtimeVersion: row.runtime_version,
    seriesKey: row.series_key,
    machineId: row.machine_id,
    machineLabel: row.machine_label ?? null,
    cpuModel: row.cpu_model,
    gitCommit: row.git_commit ?? null,
    gitBranch: row.git_branch ?? null,
    ciProvider: row.ci_provider ?? null,
    ciRunId: row.ci_run_id ?? null,
  };
}

/** The WHERE clause and parameters of a filter over audit_runs (alias r). */
function whereRuns(filter: HistoryFilter): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.model !== undefined) {
    // Runs record the file name alone: a path given here is matched by its file name.
    const name = filter.model.split(/[\\/]/).pop()!;
    if (/^[0-9a-f]{8,64}$/i.test(name)) {
      clauses.push('(r.model_name = ? OR r.model_sha256 LIKE ?)');
      params.push(name, `${name.toLowerCase()}%`);
    } else {
      clauses.push('r.model_name = ?');
      params.push(name);
    }
  }
  if (filter.runtime !== undefined) {
    clauses.push('r.runtime = ?');
    params.push(filter.runtime);
  }
  if (filter.machine !== undefined) {
    clauses.push("(r.machine_id LIKE ? OR r.machine_label = ? OR LOWER(r.cpu_model) LIKE ?)");
    params.push(`${filter.machine.toLowerCase()}%`, filter.machine, `%${filter.machine.toLowerCase()}%`);
  }
  if (filter.branch !== undefined) {
    clauses.push('r.git_branch = ?');
    params.push(filter.branch);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** The store over a connection: the same SQL on both engines. */
class SqlStore implements ResultStore {
  readonly dialect: Dialect;
  constructor(private readonly db: Connection, readonly location: string) {
    this.dialect = db.dialect;
  }

  private fail(action: string, err: unknown): never {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${this.location}: cannot ${action}: ${(err as Error).message}`, { cause: err });
  }

  /** Brings an empty or older store to this schema, one migration at a time, under the migration lock. */
  async migrate(): Promise<void> {
    try {
      await this.db.transaction(async () => {
        await this.db.query(versionTable);
        const rows = await this.db.query<{ v: number | string | null }>('SELECT MAX(version) AS v FROM model_audit_schema');
        const current = Number(rows[0]?.v ?? 0);
        if (current > storeSchemaVersion) {
          throw new StoreError(
            `${this.location} has schema version ${current}, newer than this model-audit ${packageVersion} knows (${storeSchemaVersion}): upgrade model-audit to use this store`,
            { schema: true },
          );
        }
        for (const m of migrations.filter((x) => x.version > current)) {
          for (const statement of m.statements(this.dialect)) await this.db.query(statement);
          await this.db.query('INSERT INTO model_audit_schema (version, description, applied_at, tool_version) VALUES (?, ?, ?, ?)', [m.version, m.description, new Date().toISOString(), packageVersion]);
        }
      }, true);
    } catch (err) {
      this.fail('prepare its schema', err);
    }
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.db.query<{ v: number | string | null }>('SELECT MAX(version) AS v FROM model_audit_schema');
    return Number(rows[0]?.v ?? 0);
  }

  async record(report: AuditReport, context: RunContext = runContext()): Promise<RecordedRun> {
    checkReport(report);
    const machine = machineFingerprint(report.environment);
    const key = seriesKey(report);
    const metrics = keyMetrics(report);
    const library = report.model.library;
    try {
      return await this.db.transaction(async () => {
        const inserted = await this.db.query<{ id: number | string }>(
          `INSERT INTO audit_runs (recorded_at, created_at, duration_ms, tool_version, report_schema_version, complete, passed,
            model_name, model_path, model_sha256, model_size_bytes, runtime, runtime_version, runtime_api_version, runtime_library_sha256,
            open_options, inputs, series_key, machine_id, machine_label, cpu_model, cpu_architecture, cpu_isa, logical_cpus, physical_cores, kernel,
            git_commit, git_branch, ci_provider, ci_run_id, report)
           VALUES (${Array(31).fill('?').join(', ')}) RETURNING id`,
          [
            new Date().toISOString(), report.createdAt, report.durationMs, report.tool.version, report.schemaVersion, report.complete, report.passed,
            modelName(report), report.model.path, report.model.sha256, report.model.sizeBytes, report.model.runtime, library?.version ?? '', library?.apiVersion ?? null, library?.sha256 ?? null,
            JSON.stringify(report.model.options), JSON.stringify(report.inputs), key, machine.id, context.machineLabel, machine.cpuModel, machine.architecture, machine.isa.join(' '), machine.logicalCpus, machine.physicalCores, machine.kernel,
            context.gitCommit, context.gitBranch, context.ciProvider, context.ciRunId, JSON.stringify(report),
          ],
        );
        const id = Number(inserted[0]!.id);
        for (const m of metrics) {
          await this.db.query('INSERT INTO audit_metrics (run_id, name, input_class, unit, value) VALUES (?, ?, ?, ?, ?)', [id, m.name, m.inputClass, m.unit, m.value]);
        }
        for (const b of report.budgets) {
          await this.db.query('INSERT INTO audit_budgets (run_id, name, status, limit_value, actual, unit, reason) VALUES (?, ?, ?, ?, ?, ?, ?)', [id, b.name, b.status, JSON.stringify(b.limit), b.actual === null ? null : JSON.stringify(b.actual), b.unit, b.reason]);
        }
        for (const f of report.findings) {
          await this.db.query('INSERT INTO audit_findings (run_id, step, kind, summary, input_name, case_name) VALUES (?, ?, ?, ?, ?, ?)', [id, f.step, f.kind, f.summary, f.input, f.case]);
        }
        return { id, metrics: metrics.length, seriesKey: key, machineId: machine.id };
      });
    } catch (err) {
      this.fail('record the run', err);
    }
  }

  private matchingRunIds(filter: HistoryFilter): { sql: string; params: unknown[] } {
    const where = whereRuns(filter);
    const limit = filter.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1) throw new StoreError(`the history limit must be a whole number of runs above 0, got ${limit}`);
    return { sql: `SELECT r.id FROM audit_runs r ${where.sql} ORDER BY r.created_at DESC, r.id DESC LIMIT ${limit}`, params: where.params };
  }

  async runs(filter: HistoryFilter = {}): Promise<StoredRun[]> {
    const ids = this.matchingRunIds(filter);
    try {
      const rows = await this.db.query(`SELECT ${runColumns} FROM audit_runs r WHERE r.id IN (${ids.sql}) ORDER BY r.created_at, r.id`, ids.params);
      return rows.map(storedRun);
    } catch (err) {
      this.fail('read the runs', err);
    }
  }

  async points(filter: HistoryFilter = {}): Promise<HistoryPoint[]> {
    const ids = this.matchingRunIds(filter);
    const metric = filter.metric !== undefined ? ' AND m.name = ?' : '';
    try {
      const rows = await this.db.query(
        `SELECT ${runColumns}, m.name, m.input_class, m.unit, m.value FROM audit_runs r JOIN audit_metrics m ON m.run_id = r.id
         WHERE r.id IN (${ids.sql})${metric} ORDER BY r.created_at, r.id, m.name, m.input_class`,
        [...ids.params, ...(filter.metric !== undefined ? [filter.metric] : [])],
      );
      return rows.map((row: any) => ({ ...storedRun(row), metric: row.name, inputClass: row.input_class, unit: row.unit, value: Number(row.value) }));
    } catch (err) {
      this.fail('read the metrics', err);
    }
  }

  async report(id: number): Promise<AuditReport | null> {
    try {
      const rows = await this.db.query<{ report: unknown }>('SELECT report FROM audit_runs WHERE id = ?', [id]);
      if (rows.length === 0) return null;
      const r = rows[0]!.report;
      return (typeof r === 'string' ? JSON.parse(r) : r) as AuditReport;
    } catch (err) {
      this.fail(`read run ${id}`, err);
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** The store a URL names: `sqlite:PATH` (or a path ending in .db/.sqlite), or `postgres://…` / `postgresql://…`. */
export function parseStoreUrl(url: string): { dialect: Dialect; target: string } {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', target: url };
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/i.exec(url);
  if (sqlite) return { dialect: 'sqlite', target: sqlite[1]! };
  if (/\.(db|sqlite3?)$/i.test(url) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return { dialect: 'sqlite', target: url };
  throw new OptionsError(`unknown store "${redactStoreUrl(url)}": give sqlite:PATH or postgres://USER@HOST/DATABASE`, { option: '--store' });
}

/**
 * Opens the store a URL names and brings its schema up to date (creating the tables in an empty
 * database). Throws a StoreError, with the password hidden, when it cannot be reached or holds a
 * newer schema than this model-audit knows.
 */
export async function openStore(url: string): Promise<ResultStore> {
  const { dialect, target } = parseStoreUrl(url);
  const location = redactStoreUrl(url);
  let connection: Connection;
  try {
    connection = dialect === 'sqlite' ? await (await import('./sqlite.js')).connectSqlite(target) : await (await import('./postgres.js')).connectPostgres(target);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    if (dialect === 'sqlite' && ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || /bindings file|better_sqlite3\.node|NODE_MODULE_VERSION/.test((err as Error).message))) {
      throw new StoreError(
        `${location}: the SQLite store needs the optional dependency better-sqlite3 installed with its binding for this Node (npm install better-sqlite3, with its install script allowed): ${(err as Error).message.split('\n')[0]}`,
        { cause: err },
      );
    }
    throw new StoreError(`${location}: cannot open the store: ${(err as Error).message}`, { cause: err });
  }
  const store = new SqlStore(connection, location);
  try {
    await store.migrate();
  } catch (err) {
    await connection.close().catch(() => {});
    throw err;
  }
  return store;
}
