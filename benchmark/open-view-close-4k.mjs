// SPEC §6: open + `bytes[0]` + close, 4 KiB file. See cycle.mjs; run alone with `node benchmark/open-view-close-4k.mjs`.
import { cycleScenario } from './cycle.mjs'
import { KiB, main } from './lib.mjs'

const scenario = cycleScenario({
  url: import.meta.url,
  name: 'open-view-close-4k',
  title: 'open + `bytes[0]` + close, 4 KiB file',
  size: 4 * KiB,
  touch: true,
})
export default scenario
export const run = scenario.run

await main(import.meta, scenario)
