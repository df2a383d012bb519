// The results store and model-audit history, against SQLite and a real PostgreSQL server started
// for the test: recording through the command, reading back, migrations from an empty database, a
// newer schema refused, a failed record leaving nothing behind, concurrent writers losing nothing,
// the history check's exit codes, the dashboard in Chromium, and passwords kept out of everything.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { analyseHistory, changePoints, checkLatest, openStore, redactStoreUrl, runContext, storeSchemaVersion } from '../dist/history/index.js';
import { SeededRandom } from '../dist/tensor/index.js';
import { chromium, renderedBody } from './helpers.mjs';
import { postgresBin, startPostgres } from './postgres.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const writer = fileURLToPath(new URL('./fixtures/store-writer.mjs', import.meta.url));
let dir;
let baseReport;
let basePath;

function run(args, env = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', MODEL_AUDIT_STORE: '', ...env } });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-history-'));
  // One real audit of the demo model, small enough to be recorded many times.
  const r = run(['run', '-o', join(dir, 'base'), '-q', '-f', 'json', '--steps', 'latency,throughput,memory', '--iterations', '2000']);
  assert.equal(r.status, 0, r.stderr);
  basePath = join(dir, 'base', 'report.json');
  baseReport = JSON.parse(readFileSync(basePath, 'utf8'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The base report with another p50 and time: run `i` of a synthetic series. */
function seriesReport(i, p50Ns) {
  const r = structuredClone(baseReport);
  r.createdAt = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString();
  r.steps.latency.result.summary.p50Ns = p50Ns;
  return r;
}

async function recordSeries(url, values, branch = 'main') {
  const store = await openStore(url);
  try {
    for (const [i, v] of values.entries()) await store.record(seriesReport(i, v), { gitCommit: `c${String(i).padStart(3, '0')}`, gitBranch: branch, ciProvider: null, ciRunId: null, machineLabel: 'runner-a' });
  } finally {
    await store.close();
  }
}

/** A stable series: `n` p50s within ±3 % of 10 µs. */
function stable(n, seed = 1) {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, () => Math.round(10_000 * (1 + (rng.nextFloat() - 0.5) * 0.06)));
}

async function concurrentWriters(url, writers, runs) {
  const results = await Promise.all(
    Array.from({ length: writers }, (_, w) => new Promise((resolve) => {
      const child = spawn(process.execPath, [writer, url, basePath, String(w), String(runs)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    })),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const store = await openStore(url);
  try {
    const runs_ = await store.runs({ branch: 'matrix', limit: 100000 });
    const p50s = await store.points({ branch: 'matrix', metric: 'latency.p50Ns', limit: 100000 });
    return { runs: runs_, p50s };
  } finally {
    await store.close();
  }
}

function checkConcurrent({ runs, p50s }, writers, count) {
  assert.equal(runs.length, writers * count);
  const commits = new Set(runs.map((r) => r.gitCommit));
  for (let w = 0; w < writers; w++) for (let i = 0; i < count; i++) assert.ok(commits.has(`w${w}-${i}`), `w${w}-${i} missing`);
  assert.equal(new Set(runs.map((r) => r.id)).size, writers * count);
  // Every run's metrics came with it: its p50 row, with the value that writer gave it.
  assert.equal(p50s.length, writers * count);
  for (const p of p50s) {
    const [, w, i] = /^w(\d+)-(\d+)$/.exec(p.gitCommit);
    assert.equal(p.value, 1000 + Number(w) * 100 + Number(i));
  }
}

describe('history rules', () => {
  it('a stable series has no step; one slow run is noted, five in a row are a regression', () => {
    const values = stable(25);
    assert.deepEqual(changePoints(values, 'latency.p50Ns'), []);
    assert.equal(checkLatest(values, 'latency.p50Ns', []).verdict, 'unchanged');
    // One run 40 % slower: as slow as a cloud VM's slow state, so noted but not called.
    const one = checkLatest([...values, 14_000], 'latency.p50Ns', []);
    assert.equal(one.verdict, 'unchanged');
    assert.equal(one.latestRun.beyondWorst, true);
    assert.match(one.reason, /look again after the next runs/);
    const five = checkLatest([...values, 14_000, 14_100, 13_900, 14_050, 14_000], 'latency.p50Ns', []);
    assert.equal(five.verdict, 'regression');
    assert.equal(five.recentRuns.baselineRuns, 25);
    assert.ok(five.recentRuns.p < 0.001);
    // Throughput's worse is lower.
    assert.equal(checkLatest([...values, ...Array(5).fill(14_000)], 'throughput.inferencesPerSecond', []).verdict, 'improvement');
    assert.equal(checkLatest([...values, ...Array(5).fill(6_000)], 'throughput.inferencesPerSecond', []).verdict, 'regression');
    assert.equal(checkLatest(values.slice(0, 24), 'latency.p50Ns', []).verdict, 'not-enough-history');
  });

  it('a step is found at the run it happened, and stays a regression until the new level has enough runs', () => {
    const values = [...stable(25, 2), ...stable(30, 3).map((v) => v * 1.3)];
    const steps = changePoints(values, 'latency.p50Ns');
    assert.equal(steps.length, 1);
    assert.equal(steps[0].index, 25);
    assert.equal(steps[0].direction, 'regression');
    const at = (n) => {
      const prefix = values.slice(0, n);
      return checkLatest(prefix, 'latency.p50Ns', changePoints(prefix, 'latency.p50Ns'));
    };
    // Three runs into the new level: not yet five in a row.
    assert.equal(at(28).verdict, 'unchanged');
    // Five runs in: a regression, and the step it began at.
    assert.equal(at(30).verdict, 'regression');
    assert.equal(at(30).since?.index, 25);
    // Ten runs in: the new level has too few runs to be the baseline: still one.
    assert.equal(at(35).verdict, 'regression');
    // Thirty runs in: the new level is the baseline.
    assert.equal(checkLatest(values, 'latency.p50Ns', steps).verdict, 'unchanged');
  });

  it('a smaller change is called once the step detector sees it, but not on the tail', () => {
    const values = stable(25, 8);
    // Ten runs 14-22 % slower: not every one of the last five beyond the 15 % floor, yet a clear step.
    const after = [12_100, 11_600, 12_100, 11_600, 12_100, 11_600, 12_100, 11_300, 12_100, 11_600];
    const series = [...values, ...after];
    assert.ok(Math.min(...after.slice(-5)) < [...values].sort((a, b) => a - b)[12] * 1.15);
    const steps = changePoints(series, 'latency.p50Ns');
    // Where a step is placed is exact to a run: the split with the strongest test wins.
    assert.ok(steps.length === 1 && Math.abs(steps[0].index - 25) <= 1, JSON.stringify(steps));
    const check = checkLatest(series, 'latency.p50Ns', steps);
    assert.equal(check.verdict, 'regression');
    assert.match(check.reason, /the series stepped \+1\d\.\d % at run 2[45], 1[01] runs ago/);
    // On p99, whose machine-made steps are as large, only five runs beyond its floor count.
    assert.equal(checkLatest(series, 'latency.p99Ns', changePoints(series, 'latency.p99Ns')).verdict, 'unchanged');
  });

  it('an exact counter needs a change of a whole unit, whatever its floor', () => {
    const allocations = Array(25).fill(0);
    assert.equal(checkLatest([...allocations, ...Array(5).fill(0.4)], 'memory.allocationsPerInference', []).verdict, 'unchanged');
    assert.equal(checkLatest([...allocations, ...Array(5).fill(2)], 'memory.allocationsPerInference', []).verdict, 'regression');
  });

  it('every one of the last five runs must be beyond the floor; a slow stretch with fast runs in it is not a regression', () => {
    const values = stable(25, 7);
    // +16 %: past the 15 % floor, each one.
    const shifted = [...values, 11_600, 11_580, 11_620, 11_590, 11_610];
    assert.ok([...values].sort((a, b) => a - b)[12] * 1.15 < 11_580);
    assert.equal(checkLatest(shifted, 'latency.p50Ns', changePoints(shifted, 'latency.p50Ns')).verdict, 'regression');
    const mixed = [...values, 11_600, 11_580, 10_100, 11_590, 11_610];
    assert.equal(checkLatest(mixed, 'latency.p50Ns', []).verdict, 'unchanged');
    // A machine that lands in a slow state now and then, for a few runs at a time.
    const bimodal = values.map((v, i) => (i % 4 === 1 ? Math.round(v * 1.45) : v));
    assert.equal(checkLatest([...bimodal, 14_600, 10_100, 14_500, 14_700, 14_400], 'latency.p50Ns', []).verdict, 'unchanged');
    assert.equal(checkLatest([...bimodal, 15_500, 15_600, 21_500, 15_550, 21_000], 'latency.p50Ns', []).verdict, 'regression');
  });

  it('reads the commit, branch and run id from the CI variables, and none outside a repository', () => {
    assert.deepEqual(runContext({ GITHUB_ACTIONS: 'true', GITHUB_SHA: 'abc123', GITHUB_REF_NAME: 'main', GITHUB_RUN_ID: '42', MODEL_AUDIT_MACHINE: 'graviton3' }, dir), {
      gitCommit: 'abc123', gitBranch: 'main', ciProvider: 'github', ciRunId: '42', machineLabel: 'graviton3',
    });
    const gitlab = runContext({ GITLAB_CI: 'true', CI_COMMIT_SHA: 'def', CI_COMMIT_REF_NAME: 'feature', CI_PIPELINE_ID: '7' }, dir);
    assert.deepEqual([gitlab.ciProvider, gitlab.gitCommit, gitlab.gitBranch, gitlab.ciRunId], ['gitlab', 'def', 'feature', '7']);
    assert.deepEqual(runContext({}, dir), { gitCommit: null, gitBranch: null, ciProvider: null, ciRunId: null, machineLabel: null });
    assert.equal(runContext({ MODEL_AUDIT_COMMIT: 'x1', MODEL_AUDIT_BRANCH: 'refs/heads/dev' }, dir).gitBranch, 'dev');
  });

  it('hides the password of a store URL', () => {
    assert.equal(redactStoreUrl('postgres://ci:s3cret@db.example:5432/audits'), 'postgres://ci:***@db.example:5432/audits');
    assert.equal(redactStoreUrl('postgres://ci@db/audits?password=s3cret&sslmode=require'), 'postgres://ci@db/audits?password=***&sslmode=require');
    assert.equal(redactStoreUrl('sqlite:/tmp/a.db'), 'sqlite:/tmp/a.db');
  });
});

describe('SQLite store', () => {
  const db = () => join(dir, 'audits.db');
  let recorded;

  before(() => {
    const r = run(['run', '-o', join(dir, 'rec'), '-f', 'json', '--steps', 'latency,memory,sensitivity', '--iterations', '500', '--store', `sqlite:${db()}`], {
      MODEL_AUDIT_COMMIT: 'feedc0de', MODEL_AUDIT_BRANCH: 'main', MODEL_AUDIT_MACHINE: 'dev-vm',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /recorded as run 1 in sqlite:/);
    recorded = JSON.parse(readFileSync(join(dir, 'rec', 'report.json'), 'utf8'));
  });

  it('run --store records the report, where it ran, its metrics, budgets and findings', async () => {
    const store = await openStore(`sqlite:${db()}`);
    try {
      const [stored] = await store.runs();
      assert.equal(stored.gitCommit, 'feedc0de');
      assert.equal(stored.gitBranch, 'main');
      assert.equal(stored.machineLabel, 'dev-vm');
      assert.equal(stored.modelSha256, recorded.model.sha256);
      assert.equal(stored.modelName, '(demo)');
      // The model filter takes the file name (a path's file name) or a sha256 prefix.
      assert.equal((await store.runs({ model: recorded.model.sha256.slice(0, 12) })).length, 1);
      assert.equal((await store.runs({ model: '/elsewhere/(demo)' })).length, 1);
      assert.equal((await store.runs({ model: 'deadbeefdeadbeef' })).length, 0);
      assert.deepEqual(await store.report(stored.id), recorded);
      assert.equal(await store.report(999), null);
      const points = await store.points();
      const p50 = points.find((p) => p.metric === 'latency.p50Ns');
      assert.equal(p50.value, recorded.steps.latency.result.summary.p50Ns);
      assert.equal(points.find((p) => p.metric === 'memory.allocationsPerInference').value, recorded.steps.memory.result.perInference.allocations);
      const classes = points.filter((p) => p.metric === 'sensitivity.p50Ns').map((p) => p.inputClass).sort();
      assert.deepEqual(classes, recorded.steps.sensitivity.result.classes.map((c) => c.class).sort());
    } finally {
      await store.close();
    }
    const raw = new Database(db(), { readonly: true });
    try {
      assert.equal(raw.prepare('SELECT COUNT(*) AS n FROM audit_findings').get().n, recorded.findings.length);
      assert.equal(raw.prepare('SELECT COUNT(*) AS n FROM audit_budgets').get().n, recorded.budgets.length);
      assert.equal(raw.prepare('SELECT cpu_model FROM audit_runs').get().cpu_model, recorded.environment.cpu.model);
    } finally {
      raw.close();
    }
  });

  it('an empty database gets the schema, once', async () => {
    const path = join(dir, 'empty.db');
    for (let i = 0; i < 2; i++) {
      const store = await openStore(`sqlite:${path}`);
      assert.equal(await store.schemaVersion(), storeSchemaVersion);
      await store.close();
    }
    const raw = new Database(path, { readonly: true });
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'audit_%' ORDER BY name").all().map((t) => t.name);
    const versions = raw.prepare('SELECT version FROM model_audit_schema').all();
    raw.close();
    assert.deepEqual(tables, ['audit_budgets', 'audit_findings', 'audit_metrics', 'audit_runs']);
    assert.equal(versions.length, storeSchemaVersion);
  });

  it('refuses a store of a newer schema, and a report of a newer schema, with a clear error', async () => {
    const path = join(dir, 'newer.db');
    await (await openStore(`sqlite:${path}`)).close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO model_audit_schema VALUES (99, 'from the future', '2030-01-01', '9.0.0')").run();
    raw.close();
    await assert.rejects(openStore(`sqlite:${path}`), (e) => e.code === 'ERR_STORE_SCHEMA' && /schema version 99, newer than this model-audit/.test(e.message));
    const r = run(['history', '--store', `sqlite:${path}`]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /schema version 99/);

    const store = await openStore(`sqlite:${db()}`);
    try {
      const before_ = (await store.runs()).length;
      await assert.rejects(store.record({ ...recorded, schemaVersion: 99 }), (e) => e.code === 'ERR_STORE_SCHEMA' && /schema version 99/.test(e.message));
      await assert.rejects(store.record({ hello: 1 }), /not a model-audit report/);
      assert.equal((await store.runs()).length, before_);
    } finally {
      await store.close();
    }
  });

  it('a run that fails part-way through recording leaves nothing behind', async () => {
    const store = await openStore(`sqlite:${db()}`);
    try {
      const runs = (await store.runs()).length;
      const points = (await store.points()).length;
      // The run row and its metrics go in first; a finding without its summary breaks the last insert.
      const broken = { ...recorded, findings: [{ step: 'abnormal', kind: 'crash', summary: null, input: null, case: null }] };
      await assert.rejects(store.record(broken), (e) => e.code === 'ERR_STORE' && /cannot record the run/.test(e.message));
      assert.equal((await store.runs()).length, runs);
      assert.equal((await store.points()).length, points);
    } finally {
      await store.close();
    }
  });

  it('8 processes writing 20 runs each at once lose nothing', async () => {
    checkConcurrent(await concurrentWriters(`sqlite:${join(dir, 'matrix.db')}`, 8, 20), 8, 20);
  });

  it('history prints the series, finds the step at its commit, and --check exits 1 on a regressed latest run', async () => {
    const url = `sqlite:${join(dir, 'series.db')}`;
    await recordSeries(url, [...stable(25, 4), ...stable(25, 5).map((v) => Math.round(v * 1.4))]);
    const table = run(['history', '--store', url, '--metric', 'latency.p50Ns']);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /\| \(demo\) \| onnx \| runner-a \([0-9a-f]{8}\) \| latency p50 \| 50 \|/);
    assert.match(table.stdout, /\+4\d\.\d % at c025/);
    // The step is accepted as the new level (25 runs in): the latest run is unchanged.
    assert.equal(run(['history', '--store', url, '--check']).status, 0);
    await recordSeries(url, [...Array.from({ length: 25 }, (_, i) => 10_000 + i), ...Array(5).fill(20_000)], 'slow-latest');
    const json = run(['history', '--store', url, '--branch', 'slow-latest', '--metric', 'latency.p50Ns', '--json', '--check']);
    assert.equal(json.status, 1);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.regression, true);
    assert.equal(parsed.series.length, 1);
    assert.equal(parsed.series[0].latest.verdict, 'regression');
    const check = run(['history', '--store', url, '--branch', 'slow-latest', '--check'], { MODEL_AUDIT_STORE: url });
    assert.equal(check.status, 1);
    assert.match(check.stdout, /regression: \(demo\) onnx latency p50 on runner-a/);
    assert.equal(run(['history', '--store', url, '--model', 'nothing-like-it.onnx', '--check']).status, 0);
    // The analysis and the command agree.
    const store = await openStore(url);
    const series = analyseHistory(await store.points({ branch: 'main', metric: 'latency.p50Ns' }));
    await store.close();
    assert.equal(series[0].changePoints[0].gitCommit, 'c025');
  });

  it('the dashboard draws a chart per metric and machine in headless Chromium', { skip: !chromium && 'chromium is not installed' }, () => {
    const page = join(dir, 'history.html');
    const r = run(['history', '--store', `sqlite:${join(dir, 'series.db')}`, '--branch', 'main', '--html', page]);
    assert.equal(r.status, 0, r.stderr);
    const html = readFileSync(page, 'utf8');
    const charts = (html.match(/<canvas /g) ?? []).length;
    // latency p50, p99, throughput, and three memory metrics, on one machine.
    assert.equal(charts, 6);
    assert.match(html, /step \+4\d\.\d % \(regression\) at c025/);
    const body = renderedBody(page, join(dir, 'chromium-history'));
    assert.match(body, new RegExp(`data-charts-rendered="${charts}"`));
    assert.match(body, new RegExp(`data-charts-non-blank="${charts}"`));
  });

  it('a run the store refuses after the audit exits 4, with the reports on disk', () => {
    const path = join(dir, 'refusing.db');
    // The schema is made by the first open; then a trigger refuses every run.
    const first = run(['history', '--store', `sqlite:${path}`]);
    assert.equal(first.status, 0, first.stderr);
    const db = new Database(path);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON audit_runs BEGIN SELECT RAISE(ABORT, 'this store takes no more runs'); END");
    db.close();
    const out = join(dir, 'refused');
    const r = run(['run', '-o', out, '-q', '-f', 'json', '--steps', 'latency', '--iterations', '200', '--store', `sqlite:${path}`]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /cannot record the run: this store takes no more runs/);
    assert.equal(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).complete, true);
  });

  it('a store that cannot be opened stops run before any measuring, naming it with its password hidden', () => {
    const out = join(dir, 'unreached');
    const r = run(['run', '-o', out, '--store', 'postgres://ci:hunter2@127.0.0.1:1/audits']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /postgres:\/\/ci:\*\*\*@127\.0\.0\.1:1\/audits: cannot open the store/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
    assert.throws(() => readFileSync(join(out, 'report.json')));
    assert.equal(run(['history', '--store', 'mysql://x@y/z']).status, 2);
    const none = run(['history']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no results store: give --store/);
  });
});

const pgInstalled = postgresBin() !== null;
describe('PostgreSQL store', { skip: !pgInstalled && !process.env.CI && 'PostgreSQL is not installed (apt-get install postgresql)' }, () => {
  let server;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  it('run --store records into PostgreSQL; the password in the URL appears nowhere', async () => {
    server.createDatabase('audits');
    const secret = 'pw-4c1d-never-print';
    const r = run(['run', '-o', join(dir, 'pgrun'), '-f', 'json', '--steps', 'latency,memory', '--iterations', '500'], {
      MODEL_AUDIT_STORE: server.url('audits', secret), MODEL_AUDIT_COMMIT: 'abc', MODEL_AUDIT_BRANCH: 'main',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /recorded as run 1 in postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(secret));
    const recorded = JSON.parse(readFileSync(join(dir, 'pgrun', 'report.json'), 'utf8'));
    assert.doesNotMatch(JSON.stringify(recorded), new RegExp(secret));
    const store = await openStore(server.url('audits'));
    try {
      const [stored] = await store.runs();
      assert.equal(stored.gitCommit, 'abc');
      assert.deepEqual(await store.report(stored.id), recorded);
      assert.equal((await store.points({ metric: 'latency.p50Ns' }))[0].value, recorded.steps.latency.result.summary.p50Ns);
    } finally {
      await store.close();
    }
    // Nothing in any column of any table holds it.
    const client = new pg.Client({ connectionString: server.url('audits') });
    await client.connect();
    try {
      for (const table of ['audit_runs', 'audit_metrics', 'audit_budgets', 'audit_findings', 'model_audit_schema']) {
        const { rows } = await client.query(`SELECT COUNT(*)::int AS n FROM ${table} t WHERE t::text LIKE $1`, [`%${secret}%`]);
        assert.equal(rows[0].n, 0, table);
      }
    } finally {
      await client.end();
    }
  });

  it('8 processes starting on an empty database at once migrate it once and lose no run', async () => {
    server.createDatabase('matrix');
    const result = await concurrentWriters(server.url('matrix'), 8, 20);
    checkConcurrent(result, 8, 20);
    const client = new pg.Client({ connectionString: server.url('matrix') });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM model_audit_schema');
      assert.deepEqual(rows.map((x) => x.version), [storeSchemaVersion]);
    } finally {
      await client.end();
    }
  });

  it('history --check reads PostgreSQL as it reads SQLite', async () => {
    server.createDatabase('series');
    const url = server.url('series');
    await recordSeries(url, [...stable(22, 6), ...Array(5).fill(16_000)]);
    const r = run(['history', '--store', url, '--metric', 'latency.p50Ns', '--check']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /regression: \(demo\) onnx latency p50 on runner-a/);
    const sqliteUrl = `sqlite:${join(dir, 'same.db')}`;
    await recordSeries(sqliteUrl, [...stable(22, 6), ...Array(5).fill(16_000)]);
    const fromPg = JSON.parse(run(['history', '--store', url, '--json']).stdout).series;
    const fromSqlite = JSON.parse(run(['history', '--store', sqliteUrl, '--json']).stdout).series;
    const strip = (s) => s.map(({ machineId, points, ...rest }) => ({ ...rest, points: points.map(({ runId, ...p }) => p) }));
    assert.deepEqual(strip(fromPg), strip(fromSqlite));
  });

  it('refuses a PostgreSQL store of a newer schema', async () => {
    server.createDatabase('newer');
    await (await openStore(server.url('newer'))).close();
    const client = new pg.Client({ connectionString: server.url('newer') });
    await client.connect();
    await client.query("INSERT INTO model_audit_schema VALUES (42, 'later', '2030-01-01', '9.0.0')");
    await client.end();
    await assert.rejects(openStore(server.url('newer')), (e) => e.code === 'ERR_STORE_SCHEMA' && /schema version 42/.test(e.message));
  });
});
