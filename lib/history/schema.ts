/**
 * The store's schema, one for SQLite and PostgreSQL, as numbered migrations. The few words the two
 * spell differently (an auto-numbered key, a JSON column) come from the dialect; everything else is
 * the same SQL.
 */

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  description: string;
  statements: (dialect: Dialect) => string[];
}

const idColumn = (d: Dialect): string => (d === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT');
const jsonColumn = (d: Dialect): string => (d === 'postgres' ? 'JSONB' : 'TEXT');

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, their key metrics, budgets and findings',
    statements: (d) => [
      `CREATE TABLE audit_runs (
        id ${idColumn(d)},
        recorded_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
        tool_version TEXT NOT NULL,
        report_schema_version INTEGER NOT NULL,
        complete BOOLEAN NOT NULL,
        passed BOOLEAN NOT NULL,
        model_name TEXT NOT NULL,
        model_path TEXT,
        model_sha256 TEXT NOT NULL,
        model_size_bytes BIGINT NOT NULL,
        runtime TEXT NOT NULL,
        runtime_version TEXT NOT NULL,
        runtime_api_version TEXT,
        runtime_library_sha256 TEXT,
        open_options ${jsonColumn(d)} NOT NULL,
        inputs ${jsonColumn(d)} NOT NULL,
        series_key TEXT NOT NULL,
        machine_id TEXT NOT NULL,
        machine_label TEXT,
        cpu_model TEXT NOT NULL,
        cpu_architecture TEXT NOT NULL,
        cpu_isa TEXT NOT NULL,
        logical_cpus INTEGER NOT NULL,
        physical_cores INTEGER NOT NULL,
        kernel TEXT NOT NULL,
        git_commit TEXT,
        git_branch TEXT,
        ci_provider TEXT,
        ci_run_id TEXT,
        report ${jsonColumn(d)} NOT NULL
      )`,
      'CREATE INDEX audit_runs_series ON audit_runs (model_name, runtime, machine_id, created_at)',
      `CREATE TABLE audit_metrics (
        run_id BIGINT NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        input_class TEXT NOT NULL,
        unit TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (run_id, name, input_class)
      )`,
      'CREATE INDEX audit_metrics_name ON audit_metrics (name, run_id)',
      `CREATE TABLE audit_budgets (
        run_id BIGINT NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        limit_value TEXT NOT NULL,
        actual TEXT,
        unit TEXT NOT NULL,
        reason TEXT
      )`,
      'CREATE INDEX audit_budgets_run ON audit_budgets (run_id)',
      `CREATE TABLE audit_findings (
        run_id BIGINT NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        kind TEXT NOT NULL,
        summary TEXT NOT NULL,
        input_name TEXT,
        case_name TEXT
      )`,
      'CREATE INDEX audit_findings_run ON audit_findings (run_id)',
    ],
  },
];

/** The newest schema this model-audit writes and reads. */
export const storeSchemaVersion = migrations[migrations.length - 1]!.version;

/** The table that records which migrations a store has had. */
export const versionTable = `CREATE TABLE IF NOT EXISTS model_audit_schema (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  tool_version TEXT NOT NULL
)`;
