// The ESM entry (package.json `exports` → `import`). It loads the CommonJS build with require(),
// so ESM and CommonJS consumers in one process share one module instance: one native binding, one
// set of live maps. require(), not `import memmap from './dist/index.js'`: Deno decides by itself
// whether a .js file outside node_modules (a linked or workspace package) is CommonJS, and takes
// dist/index.js for an ES module with no default export; require() is CommonJS on every runtime.
// The names are listed, not `export *`, which would also export `__esModule` and, on Node 23+,
// `module.exports`. A name exported by js/index.ts must be added here: __test__/install.spec.ts
// and `npm run test:package` fail while the two lists differ.
import { createRequire } from 'node:module'

const memmap = createRequire(import.meta.url)('./dist/index.js')

export const { MappedFile, openSync, open, allocate, openShared, pageSize, maxViewBytes, allocationGranularity, externalBuffersSupported, stats } = memmap
export default memmap
