import { describe, expect, it } from 'vitest'
import { evaluateThresholds, parseThresholds } from '../../../dist/server/loadgen/thresholds.js'
import { loadRun } from '../../fixtures/load-run.js'

// 905 answers over 3.05 s, p99 70 ms (see the fixture)
const run = (errors = {}) => loadRun({ errors: { refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0, ...errors } })

describe('--fail-on thresholds', () => {
  it('reads latencies in ms or s, errors as a count or a share, rps', () => {
    const t = parseThresholds('p99>200ms, p50>=0.1s,errors>1%,errors>3,rps<1000,max>5000')
    expect(t.map((x) => [x.metric, x.op, x.limit, x.percent])).toEqual([
      ['p99', '>', 200, false],
      ['p50', '>=', 100, false],
      ['errors', '>', 1, true],
      ['errors', '>', 3, false],
      ['rps', '<', 1000, false],
      ['max', '>', 5000, false],
    ])
  })

  it.each(['p99', 'p99>', 'p98>1ms', 'errors>1ms', 'p99>200%', ''])('refuses %j with what it accepts', (spec) => {
    expect(() => parseThresholds(spec)).toThrow(/--fail-on/)
  })

  it('says which condition held and the measured value', () => {
    const out = evaluateThresholds(run(), parseThresholds('p99>50ms,p99>200ms'))
    expect(out.map((o) => o.crossed)).toEqual([true, false])
    expect(out[0].message).toBe('p99 was 70 ms (fails when > 50 ms)')
  })

  it('counts an error share against every outcome, answered or not', () => {
    // 905 answers + 95 refused = 1000 outcomes, 95 errors = 9.5%
    const out = evaluateThresholds(run({ refused: 95 }), parseThresholds('errors>9%,errors>10%,errors>94'))
    expect(out.map((o) => o.crossed)).toEqual([true, false, true])
    expect(out[0].actual).toBeCloseTo(9.5, 5)
  })

  it('rps is the mean over the run', () => {
    const [o] = evaluateThresholds(run(), parseThresholds('rps<300'))
    expect(o.actual).toBeCloseTo(905 / 3.05, 3)
    expect(o.crossed).toBe(true)
  })
})
