/**
 * --max-worker-memory: a leaking worker is replaced (replacement first, then a drain) with no
 * failed request, and the log and the drain event name the reason and the figure. Real
 * processes under a closed-loop load; the decision rule and the pidusage fallback (where
 * /proc is missing) as units.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { FIXTURES, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { countingLoad } from '../../helpers/load.js'
import { MemoryLimit, SAMPLES_ABOVE } from '../../../src/server/arbiter/memory.js'
import { residentBytes } from '../../../src/server/platform/process-figures.js'
import { ProcSampler } from '../../../src/server/control/sampler.js'

afterEach(stopAll)

describe('--max-worker-memory', () => {
  for (const [workerClass, extra] of [['sync', []], ['gthread', ['--threads', '2']]] as const) {
    it(`${workerClass}: a leaking worker is replaced with 0 failed requests, the reason and figure logged`, async () => {
      const p = await startPaddock(['-w', '1', '-k', workerClass, ...extra, '--max-worker-memory', '160M', join(FIXTURES, 'apps/leaky.mjs')])
      const [first] = await waitForWorkers(p, 1)
      const load = countingLoad(p.port, '/', 2, { keepAlive: false })
      try {
        const line = await p.waitFor(new RegExp(`Worker ${first} memory: RSS (\\d+) MiB above --max-worker-memory 160 MiB: starting its replacement first`), 40_000)
        expect(Number(line[1])).toBeGreaterThan(160)
        await p.waitFor(new RegExp(`Worker exiting \\(pid: ${first}\\): memory: RSS \\d+ MiB above --max-worker-memory 160 MiB`), 20_000)
      } finally {
        await load.stop()
      }
      const counts = load.counts()
      expect(counts.ok).toBeGreaterThan(20)
      expect({ ...counts, ok: 0 }).toEqual({ ok: 0, refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 })
      // served by more than one process: the replacement took over
      expect(new Set(load.served.map((s) => s.pid)).size).toBeGreaterThan(1)
    })
  }
})

describe('the memory rule', () => {
  it('recycles after two samples in a row above the limit, not after one', () => {
    const m = new MemoryLimit()
    const MB = 1024 * 1024
    expect(SAMPLES_ABOVE).toBe(2)
    expect(m.judge(100 * MB, new Map([[1, 150 * MB], [2, 50 * MB]]))).toEqual([])
    expect(m.judge(100 * MB, new Map([[1, 90 * MB], [2, 150 * MB]]))).toEqual([])
    const v = m.judge(100 * MB, new Map([[1, 120 * MB], [2, 160 * MB]]))
    expect(v).toEqual([{ pid: 2, rss: 160 * MB, reason: 'memory: RSS 160 MiB above --max-worker-memory 100 MiB' }])
  })
})

describe('process figures without /proc (pidusage)', () => {
  it('reads RSS and CPU of a real child through pidusage, close to what /proc says', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    try {
      await new Promise((r) => setTimeout(r, 300))
      const pid = child.pid!
      const fromProc = (await residentBytes([pid], 'proc')).get(pid)!
      const fromPs = (await residentBytes([pid], 'pidusage')).get(pid)!
      expect(fromPs).toBeGreaterThan(10 * 1024 * 1024)
      expect(Math.abs(fromPs - fromProc) / fromProc).toBeLessThan(0.3)
      const sampler = new ProcSampler('pidusage')
      const figures = (await sampler.sample([pid, 999_999_999])).get(pid)!
      expect(figures.rss).toBeGreaterThan(10 * 1024 * 1024)
      expect(typeof figures.cpu).toBe('number')
      expect((await sampler.sample([999_999_999])).get(999_999_999)).toEqual({ cpu: null, rss: null })
    } finally {
      child.kill('SIGKILL')
    }
  })
})
