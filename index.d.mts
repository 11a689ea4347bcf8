// Typings of the ESM entry (index.mjs): the same API as index.d.ts, which documents it.
import * as memmap from './index.js'

export * from './index.js'
export default memmap
