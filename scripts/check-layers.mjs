// Checks how the files of lib/ import one another at run time: no import cycles, and each
// layer imports only the layers below it. Imports of types only are erased by the compiler
// and may name a type anywhere (a cursor's `connection` is the Connection that made it),
// except the core's workings and the native handle, which no feature may name at all.
// Run by `npm run lint`; exits 1 and lists every violation when there is one.
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
    patterns: [/^errors\//, /^utf8\.ts$/, /^fifo\.ts$/, /^sql\/lexer\.ts$/, /^placeholders\.ts$/, /^caller-stack\.ts$/, /^thrown\.ts$/, /^typed-events\.ts$/, /^connect-failure\.ts$/, /^rows\.ts$/, /^tracing\.ts$/, /^seconds\.ts$/],
    uses: [],
  },
  // the one place that knows the addon
  { name: 'native', patterns: [/^native(-loader)?\.ts$/], uses: ['base'] },
  // values in and out: adapters, typecasters, type families, SQL composition
  {
    name: 'values',
    patterns: [/^adapt\//, /^types\/(?!index\.ts$|typeinfo|composite|enum|hstore|user-range|postgis)/, /^sql\/(compose|namespace)\.ts$/, /^query-text\.ts$/, /^conninfo\.ts$/, /^session-settings\.ts$/],
    uses: ['base', 'native'],
  },
  // the connection core: the queue, the pump, results, prepared statements, its interface
  { name: 'core', patterns: [/^core\//], uses: ['base', 'native', 'values'] },
  // features: they see the core through its interface only
  {
    name: 'features',
    patterns: [
      /^cursor\.ts$/, /^server-cursor\.ts$/, /^cursor-base\.ts$/, /^stream\.ts$/, /^copy\//, /^transaction\.ts$/, /^tpc\.ts$/,
      /^pipeline\.ts$/, /^lobject\.ts$/, /^execute-values\.ts$/, /^inline-params\.ts$/, /^run-query\.ts$/,
      /^types\/(typeinfo|composite|enum|hstore|user-range|postgis)\.ts$/, /^types\/index\.ts$/, /^replication\//,
    ],
    uses: ['base', 'values', 'core-interface'],
  },
  // the user's connection and pool, and the entries
  { name: 'facade', patterns: [/^connection\.ts$/, /^pool\.ts$/, /^pool\//, /^pg\//, /^replicate\.ts$/, /^index\.ts$/], uses: ['base', 'native', 'values', 'core', 'features'] },
];

/** Files of the core that features may import: its interface, nothing of its workings. */
const CORE_INTERFACE = [/^core\/interface\.ts$/];
/** The core's workings, and the files outside the core that may import them: the Connection that makes a core. */
const CORE_WORKINGS = /^core\/(connection-core|request)\.ts$/;
const CORE_OWNERS = ['connection.ts'];

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

/** Whether an import or export declaration brings in types only (erased when compiled). */
function typeOnly(statement) {
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    if (clause === undefined) return false; // import './x': for its effects
    if (clause.isTypeOnly) return true;
    const bindings = clause.namedBindings;
    return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
  }
  if (statement.isTypeOnly) return true;
  const clause = statement.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((element) => element.isTypeOnly);
}

/**
 * lib-relative file → the lib-relative files it imports at run time; with `types`, those it
 * imports types from only (erased by the compiler: they name a type, they load nothing).
 */
export function importGraph({ types = false } = {}) {
  const graph = new Map();
  for (const file of libFiles()) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const targets = new Set();
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
      const specifier = statement.moduleSpecifier;
      if (specifier === undefined || !ts.isStringLiteral(specifier)) continue;
      if (typeOnly(statement) !== types) continue;
      const target = resolveImport(file, specifier.text);
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

/** What breaks the rules in `graph` (run-time imports) and `typeGraph` (imports of types only). */
export function violations(graph = importGraph(), typeGraph = importGraph({ types: true })) {
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
  // The core's workings are known to the core and to the Connection that makes it, no one
  // else: features, the pool and pqnode/pg reach a core through coreOf() and core/interface.ts.
  for (const [file, targets] of [...graph, ...typeGraph]) {
    if (layerOf(file) === 'core' || CORE_OWNERS.includes(file)) continue;
    for (const target of targets) {
      if (CORE_WORKINGS.test(target)) problems.push(`${file} (${layerOf(file)}) names the core's workings (${target}): use core/interface.ts`);
    }
  }
  // nor do features name the native handle, even for a type: what they know of results
  // comes through core/interface.ts
  for (const [file, targets] of typeGraph) {
    if (layerOf(file) !== 'features') continue;
    for (const target of targets) {
      if (layerOf(target) === 'native') problems.push(`${file} (features) names the native layer (${target}): use core/interface.ts`);
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
