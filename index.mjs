// The ESM entry (package.json `exports` → `import`). It re-exports the CommonJS build, so ESM and
// CommonJS consumers in one process share one module instance: one native binding, one set of
// live maps. The names are listed, not `export *`, which would also export `__esModule` and, on
// Node 23+, `module.exports`. A name exported by js/index.ts must be added here:
// __test__/install.spec.ts and `npm run test:package` fail while the two lists differ.
import memmap from './dist/index.js'

export const { MappedFile, openSync, open, allocate, pageSize, maxViewBytes, allocationGranularity, externalBuffersSupported, stats } = memmap
export default memmap
