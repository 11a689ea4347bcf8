// SPEC §6: open + close, 4 KiB file, no view. See cycle.mjs; run alone with `node benchmark/open-close-4k.mjs`.
import { cycleScenario } from './cycle.mjs'
import { KiB, main } from './lib.mjs'

const scenario = cycleScenario({
  url: import.meta.url,
  name: 'open-close-4k',
  title: 'open + close, 4 KiB file, no view',
  size: 4 * KiB,
  touch: false,
  maxRatio: 1.5,
})
export default scenario
export const run = scenario.run

await main(import.meta, scenario)
