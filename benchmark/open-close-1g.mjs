// SPEC §6: open + close, 1 GiB file, no view. See cycle.mjs; run alone with `node benchmark/open-close-1g.mjs`.
import { cycleScenario } from './cycle.mjs'
import { GiB, main } from './lib.mjs'

const scenario = cycleScenario({
  url: import.meta.url,
  name: 'open-close-1g',
  title: 'open + close, 1 GiB file, no view',
  size: GiB,
  touch: false,
  maxRatio: 3,
})
export default scenario
export const run = scenario.run

await main(import.meta, scenario)
