// Checks how the files of lib/ import one another: no import cycles (type-only imports count
// too: a cycle of types is a cycle of design), and each layer imports only the layers below
// it. Run by `npm run lint`; exits 1 and lists every violation when there is one.
//
//   node scripts/check-layers.mjs [--graph]     --graph prints the import graph instead
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIB = path.join(ROOT, 'lib');

/**
 * The layers, lowest first; a file belongs to the first layer one of whose patterns matches
 * its path under lib/. A layer may import its own files and the layers listed in `uses`.
 */
export const LAYERS = [
  // pure building blocks: no connection, no server
  {
    name: 'base',
    patterns: [/^errors\//, /^utf8\.ts$/, /^fifo\.ts$/, /^sql-split\.ts$/, /^placeholders\.ts$/, /^conninfo-text\.ts$/],
    uses: [],
  },
  // the one place that knows the addon
  { name: 'native', patterns: [/^native(-loader)?\.ts$/], uses: ['base'] },
  // values in and out: adapters, typecasters, type families, SQL composition
  {
    name: 'values',
    patterns: [/^adapt\//, /^types\/(?!typeinfo|composite|enum|hstore|user-range)/, /^rows\.ts$/, /^sql\.ts$/, /^sql-namespace\.ts$/, /^query-text\.ts$/, /^conninfo\.ts$/],
    uses: ['base', 'native'],
  },
  // the connection core: the queue, the pump, results, prepared statements, its interface
  { name: 'core', patterns: [/^core\//], uses: ['base', 'native', 'values'] },
  // features: they see the core through its interface only
  {
    name: 'features',
    patterns: [
      /^cursor\.ts$/, /^server-cursor\.ts$/, /^cursor-base\.ts$/, /^stream\.ts$/, /^copy/, /^transaction\.ts$/, /^tpc\.ts$/,
      /^pipeline\.ts$/, /^lobject\.ts$/, /^execute-values\.ts$/, /^notifications\.ts$/, /^inline-params\.ts$/, /^prepared\.ts$/,
      /^types\/(typeinfo|composite|enum|hstore|user-range)\.ts$/, /^types\.ts$/,
    ],
    uses: ['base', 'values', 'core-interface'],
  },
  // the user's connection and pool, and the entries
  { name: 'facade', patterns: [/^connection\.ts$/, /^pool\.ts$/, /^pool\//, /^pg\//, /^index\.ts$/], uses: ['base', 'native', 'values', 'core', 'features'] },
];

/** Files of the core that features may import: its interface, nothing of its workings. */
const CORE_INTERFACE = [/^core\/interface\.ts$/];

function layerOf(relative) {
  if (CORE_INTERFACE.some((pattern) => pattern.test(relative))) return 'core-interface';
  for (const layer of LAYERS) if (layer.patterns.some((pattern) => pattern.test(relative))) return layer.name;
  return undefined;
}

function mayUse(fromLayer, toLayer) {
  if (fromLayer === toLayer) return true;
  // the core's interface is part of the core
  if (fromLayer === 'core-interface' || toLayer === 'core-interface') {
    if (fromLayer === 'core' || toLayer === 'core') return true;
  }
  const layer = LAYERS.find((candidate) => candidate.name === (fromLayer === 'core-interface' ? 'core' : fromLayer));
  if (layer === undefined) return false;
  const uses = new Set(layer.uses);
  if (fromLayer === 'facade') uses.add('core-interface');
  if (fromLayer === 'core-interface') uses.add('values').add('native').add('base');
  return uses.has(toLayer);
}

function libFiles(dir = LIB) {
  const files = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...libFiles(file));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(file);
  }
  return files.sort();
}

function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** lib-relative file → the lib-relative files it imports */
export function importGraph() {
  const graph = new Map();
  for (const file of libFiles()) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = new Set();
    for (const imported of info.importedFiles) {
      const target = resolveImport(file, imported.fileName);
      if (target !== undefined) targets.add(path.relative(LIB, target));
    }
    graph.set(path.relative(LIB, file), [...targets].sort());
  }
  return graph;
}

/** The strongly connected components of more than one file, or of a file importing itself. */
export function cycles(graph) {
  let index = 0;
  const indices = new Map();
  const lowlinks = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (node) => {
    indices.set(node, index);
    lowlinks.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        lowlinks.set(node, Math.min(lowlinks.get(node), lowlinks.get(next)));
      } else if (onStack.has(next)) {
        lowlinks.set(node, Math.min(lowlinks.get(node), indices.get(next)));
      }
    }
    if (lowlinks.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

export function violations(graph = importGraph()) {
  const problems = [];
  for (const component of cycles(graph)) problems.push(`import cycle: ${component.join(' ↔ ')}`);
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    if (from === undefined) {
      problems.push(`${file}: in no layer (add it to LAYERS in scripts/check-layers.mjs)`);
      continue;
    }
    for (const target of targets) {
      const to = layerOf(target);
      if (to !== undefined && !mayUse(from, to)) problems.push(`${file} (${from}) imports ${target} (${to})`);
    }
  }
  // the addon is loaded in one place
  for (const file of libFiles()) {
    const relative = path.relative(LIB, file);
    if (layerOf(relative) === 'native') continue;
    const text = fs.readFileSync(file, 'utf8');
    if (/node-gyp-build|\.node['"]/.test(text)) problems.push(`${relative}: loads the addon (only lib/native.ts may)`);
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const graph = importGraph();
  if (process.argv.includes('--graph')) {
    for (const [file, targets] of graph) console.log(`${file} (${layerOf(file) ?? '?'}) → ${targets.join(', ')}`);
  } else {
    const problems = violations(graph);
    for (const problem of problems) console.error(problem);
    if (problems.length > 0) {
      console.error(`check-layers: ${problems.length} problem(s)`);
      process.exit(1);
    }
  }
}
