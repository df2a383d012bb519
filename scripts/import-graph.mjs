// Prints the import circles among lib/ modules (value imports and type-only imports apart), and
// how many values the root entry exports. `node scripts/import-graph.mjs` exits 1 on a circle.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'lib');

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const graph = { value: new Map(), type: new Map() };
for (const file of files(lib)) {
  const text = readFileSync(file, 'utf8');
  for (const kind of ['value', 'type']) graph[kind].set(file, new Set());
  const statement = /^(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?'(\.[^']+)'/gm;
  for (const m of text.matchAll(statement)) {
    const target = resolve(dirname(file), m[3].replace(/\.js$/, '.ts'));
    const typeOnly = Boolean(m[2]) || /^import\s*\{\s*(type\s+[^,}]+\s*,?\s*)+\}/.test(m[0]);
    graph[typeOnly ? 'type' : 'value'].get(file).add(target);
  }
}

function cycles(edges) {
  const found = [];
  const state = new Map();
  const stack = [];
  const visit = (node) => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'active') found.push(stack.slice(stack.indexOf(next)).concat(next));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return found;
}

const both = new Map([...graph.value].map(([k, v]) => [k, new Set([...v, ...graph.type.get(k)])]));
const name = (p) => relative(lib, p);
const valueCycles = cycles(graph.value);
const anyCycles = cycles(both);
for (const c of valueCycles) console.log(`value circle: ${c.map(name).join(' → ')}`);
for (const c of anyCycles) console.log(`circle (type imports included): ${c.map(name).join(' → ')}`);

const index = await import(join(root, 'dist', 'index.js'));
const values = Object.keys(index);
console.log(`root entry: ${values.length} runtime values`);
process.exitCode = valueCycles.length > 0 || anyCycles.length > 0 ? 1 : 0;
