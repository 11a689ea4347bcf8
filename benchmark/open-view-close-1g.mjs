// SPEC §6: open + `bytes[0]` + close, 1 GiB file. See cycle.mjs; run alone with `node benchmark/open-view-close-1g.mjs`.
import { cycleScenario } from './cycle.mjs'
import { GiB, main } from './lib.mjs'

const scenario = cycleScenario({
  url: import.meta.url,
  name: 'open-view-close-1g',
  title: 'open + `bytes[0]` + close, 1 GiB file',
  size: GiB,
  touch: true,
})
export default scenario
export const run = scenario.run

await main(import.meta, scenario)
