// How lib/ files import one another (scripts/check-layers.mjs, run by npm run lint): no
// import cycles at run time, every file in a layer, no layer importing one above it.
import { describe, expect, it } from 'vitest';

interface LayersModule {
  importGraph(options?: { types?: boolean }): Map<string, string[]>;
  cycles(graph: Map<string, string[]>): string[][];
  violations(graph?: Map<string, string[]>, typeGraph?: Map<string, string[]>): string[];
}

async function layers(): Promise<LayersModule> {
  const specifier: string = '../scripts/check-layers.mjs';
  return (await import(specifier)) as LayersModule;
}

describe('the layers of lib/', () => {
  it('hold: no cycle, no import up the layers, the addon loaded in one place', async () => {
    const { violations } = await layers();
    expect(violations()).toEqual([]);
  });

  it('the connection core imports no feature, and no feature imports the native layer', async () => {
    const { importGraph } = await layers();
    const graph = importGraph();
    for (const [file, targets] of graph) {
      if (file.startsWith('core/')) expect(targets.filter((target) => /^(cursor|copy|stream|pool|pg\/)/.test(target)), file).toEqual([]);
      if (/^(cursor|server-cursor|stream|copy\/copy|copy\/streams|copy\/format|lobject|pipeline|transaction|inline-params|execute-values)\.ts$/.test(file)) {
        expect(targets.filter((target) => /^native(-loader)?\.ts$|^core\/connection-core\.ts$/.test(target)), file).toEqual([]);
      }
    }
  });

  it('the checker sees a cycle and an import up the layers where there is one', async () => {
    const { cycles, violations } = await layers();
    const graph = new Map([
      ['cursor.ts', ['stream.ts']],
      ['stream.ts', ['cursor.ts']],
      ['errors/index.ts', ['connection.ts']],
      ['connection.ts', ['core/connection-core.ts']],
      ['pool/hygiene.ts', ['core/connection-core.ts']],
      ['core/connection-core.ts', []],
    ]);
    expect(cycles(graph)).toEqual([['cursor.ts', 'stream.ts']]);
    const problems = violations(graph);
    expect(problems).toContain('import cycle: cursor.ts ↔ stream.ts');
    expect(problems).toContain('errors/index.ts (base) imports connection.ts (facade)');
    // the pool is a facade, yet it reaches a core through its interface like any feature
    expect(problems).toContain("pool/hygiene.ts (facade) names the core's workings (core/connection-core.ts): use core/interface.ts");
    expect(problems.filter((problem) => problem.startsWith('connection.ts'))).toEqual([]);
  });

  it('the checker sees a feature naming the native layer, even for a type only', async () => {
    const { violations } = await layers();
    const types = new Map([
      ['cursor.ts', ['native.ts']],
      ['stream.ts', ['core/interface.ts']],
      ['connection.ts', ['native.ts']],
    ]);
    expect(violations(new Map(), types)).toEqual(['cursor.ts (features) names the native layer (native.ts): use core/interface.ts']);
  });
});
