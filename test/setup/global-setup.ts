import type { TestProject } from 'vitest/node';
import type { TestServerModule } from '../helpers';

declare module 'vitest' {
  export interface ProvidedContext {
    dsn: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const external = process.env.PQNODE_TEST_DSN;
  if (external) {
    project.provide('dsn', external);
    return;
  }
  // Typed by hand for the same reason as loadTestServerModule in helpers.ts;
  // that module is not imported here because it pulls in the test runtime.
  const specifier: string = '../../scripts/test-server.mjs';
  const { startTestServer } = (await import(specifier)) as TestServerModule;
  const server = await startTestServer();
  project.provide('dsn', server.dsn);
  return async () => {
    await server.stop();
  };
}
