// The public types: the declaration files a user compiles against hold no `any`, and the
// type-level checks of test/types/public-api.ts compile (streams yield their row type,
// event listeners get typed arguments). The TypeScript compiler runs in memory: nothing is
// written, so dist/ stays as the tests that use it left it.
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const FIXTURE = path.join(root, 'test', 'types', 'public-api.ts');

let program: ts.Program;
/** the emitted declaration files: path relative to lib/ → text */
const declarations = new Map<string, string>();

beforeAll(() => {
  const configPath = path.join(root, 'tsconfig.build.json');
  const config = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath);
  program = ts.createProgram({
    rootNames: [path.join(root, 'lib', 'index.ts'), path.join(root, 'lib', 'pg', 'index.ts'), FIXTURE],
    options: { ...parsed.options, declaration: true, emitDeclarationOnly: true, noEmit: false, sourceMap: false, rootDir: root, outDir: '/pqnode-declarations' },
  });
  const emitted = program.emit(undefined, (fileName, text) => {
    const relative = path.relative('/pqnode-declarations/lib', fileName);
    if (!relative.startsWith('..')) declarations.set(relative, text);
  });
  const errors = emitted.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  expect(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
}, 120_000);

/** Where `any` is written in a declaration file: file:line and the line's text. */
function anysIn(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${file}:${line + 1}: ${text.split('\n')[line].trim()}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('public declarations', () => {
  it('are made for the whole package', () => {
    expect(declarations.has('index.d.ts')).toBe(true);
    expect(declarations.has('connection.d.ts')).toBe(true);
    // the second entry, pqnode/pg: nothing imports it, so it is emitted only as a root
    expect(declarations.has('pg/index.d.ts')).toBe(true);
    expect(declarations.size).toBeGreaterThan(30);
  });

  it('hold no any', () => {
    const found = [...declarations].flatMap(([file, text]) => anysIn(file, text));
    // node-postgres's own declaration (@types/pg), kept so that code typed against it compiles
    const nodePostgres = 'pg/type-parsers.d.ts:2: export type TypeParser<I = string, T = any> = (value: I) => T;';
    expect(found.filter((line) => line !== nodePostgres)).toEqual([]);
  });

  it('the scan finds an any where one is written', () => {
    // comments and names that contain the word do not count; the keyword does
    const text = '/** any row */\nexport declare function company(many: string): any;\nexport type T = { anything: any[] };\n';
    expect(anysIn('probe.d.ts', text)).toEqual([
      'probe.d.ts:2: export declare function company(many: string): any;',
      'probe.d.ts:3: export type T = { anything: any[] };',
    ]);
  });
});

const NODE_STREAM_METHODS = new Set(['_read', '_write', '_writev', '_destroy', '_final', '_transform', '_flush', '_construct']);

/**
 * node-postgres's own members with a leading underscore that other packages read (pg-pool,
 * pg-cursor, pg-query-stream, Sequelize): pqnode/pg keeps them, as part of the API it copies.
 */
const NODE_POSTGRES_MEMBERS = new Set([
  'pg/client.d.ts:_ending', 'pg/client.d.ts:_queryable', 'pg/client.d.ts:_types', 'pg/client.d.ts:_Promise',
  'pg/client.d.ts:_connecting', 'pg/client.d.ts:_connected', 'pg/client.d.ts:_ended',
  'pg/cursor.d.ts:_conf', 'pg/cursor.d.ts:_result', 'pg/query.d.ts:_result', 'pg/query.d.ts:_results',
  'pg/result.d.ts:_parsers', 'pg/result.d.ts:_types', 'pg/type-parsers.d.ts:_types',
]);

/** Members and exports whose names mark them internal (a leading underscore), file:line and text. */
function internalsIn(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    const name = (node as ts.NamedDeclaration).name;
    const isMember = ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node) ||
      ts.isPropertySignature(node) || ts.isMethodSignature(node);
    // Node's stream classes are extended through their underscore methods: those are public
    if (isMember && name !== undefined && ts.isIdentifier(name) && name.text.startsWith('_') && !NODE_STREAM_METHODS.has(name.text) &&
      !NODE_POSTGRES_MEMBERS.has(`${file}:${name.text}`)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${file}:${line + 1}: ${text.split('\n')[line].trim()}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The names a declaration file exports. */
function exportedNames(text: string): Set<string> {
  const source = ts.createSourceFile('exports.d.ts', text, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
    } else {
      const name = (statement as ts.NamedDeclaration).name;
      if (name !== undefined && ts.isIdentifier(name)) names.add(name.text);
    }
  }
  return names;
}

/** Where a declaration file names one of `names` (comments aside): file:line and the line's text. */
function namesUsedIn(file: string, text: string, names: Set<string>): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = new Set<number>();
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) && names.has(node.text)) lines.add(source.getLineAndCharacterOfPosition(node.getStart()).line);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...lines].sort((a, b) => a - b).map((line) => `${file}:${line + 1}: ${text.split('\n')[line].trim()}`);
}

/** The declaration files a user's compiler reads: those the entries import, and so on. */
function reachableDeclarations(entries: string[]): Map<string, string> {
  const reached = new Map<string, string>();
  const pending = [...entries];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    const text = declarations.get(file);
    if (text === undefined || reached.has(file)) continue;
    reached.set(file, text);
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']*)'/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]));
      pending.push(declarations.has(`${target}.d.ts`) ? `${target}.d.ts` : `${target}/index.d.ts`);
    }
  }
  return reached;
}

describe('what the declarations leave out', () => {
  it('no internal member (underscore names, the native handle, the core) reaches them', () => {
    const reached = reachableDeclarations(['index.d.ts', 'pg/index.d.ts']);
    expect(reached.size).toBeGreaterThan(20);
    const found = [...reached].flatMap(([file, text]) => internalsIn(file, text));
    expect(found).toEqual([]);
    for (const [file, text] of reached) {
      expect(file).not.toMatch(/^core\/(connection-core|request|interface)\.d\.ts$/);
      // native.d.ts declares the handle; what reaches it from the public files is its data types
      if (file !== 'native.d.ts') expect(text, file).not.toMatch(/\b_native\b|\b_core\b|NativeConnection\b|ConnectionCore\b|\bcoreOf\b/);
    }
  });

  it('no native data type reaches them (NativeResult, NativeDecoder, ...): the addon is no part of the API', () => {
    const reached = reachableDeclarations(['index.d.ts', 'pg/index.d.ts']);
    expect([...reached.keys()]).not.toContain('native.d.ts');
    // its data types (the loader function `native` is no type: pg.native is node-postgres's)
    const nativeTypes = new Set([...exportedNames(declarations.get('native.d.ts') ?? '')].filter((name) => /^[A-Z]/.test(name)));
    expect([...nativeTypes]).toEqual(expect.arrayContaining(['NativeResult', 'NativeDecoder', 'NativeConnection', 'ExecStatus']));
    const found = [...reached].flatMap(([file, text]) => namesUsedIn(file, text, nativeTypes));
    expect(found).toEqual([]);
  });

  it('the scan finds a native type where one is named', () => {
    const text = "import type { NativeResult } from './native';\nexport declare function run(): Promise<NativeResult[]>;\n/** NativeResult in a comment */\n";
    expect(namesUsedIn('probe.d.ts', text, new Set(['NativeResult']))).toEqual([
      "probe.d.ts:1: import type { NativeResult } from './native';",
      'probe.d.ts:2: export declare function run(): Promise<NativeResult[]>;',
    ]);
  });

  it('the scan finds an internal member where one is declared', () => {
    expect(internalsIn('probe.d.ts', 'export declare class C {\n  get _native(): object;\n  _run(): void;\n  run(): void;\n}\n')).toEqual([
      'probe.d.ts:2: get _native(): object;',
      'probe.d.ts:3: _run(): void;',
    ]);
  });
});

describe('type-level checks', () => {
  it('test/types/public-api.ts compiles: rows, listeners and results have their types', () => {
    const fixture = program.getSourceFile(FIXTURE);
    expect(fixture).toBeDefined();
    const diagnostics = [...program.getSyntacticDiagnostics(fixture), ...program.getSemanticDiagnostics(fixture)];
    const messages = diagnostics.map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `public-api.ts:${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(messages).toEqual([]);
  });
});
