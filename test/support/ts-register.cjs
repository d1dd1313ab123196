// Lets a plain `node` child process of a test load the library's TypeScript sources: each
// .ts file is transpiled to CommonJS as it is required (no type checking; the test run does
// that). Used as `node -r ./test/support/ts-register.cjs script.ts`, for checks that need a
// process of their own, such as one per time zone.
const fs = require('node:fs');
const ts = require('typescript');

const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  sourceMap: false,
};

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
  module._compile(outputText, filename);
};
