/**
 * Operations under a steady load, per worker class: HUP five times, TTIN and TTOU five
 * times, and two worker-class changes. Every request is classified; the target is zero
 * failures, and the counts are printed exactly.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, childPids, runCli, sleep, startPaddock, stopAll, waitForWorkers, type Paddock } from '../helpers/proc.js'
import { countingLoad } from '../helpers/load.js'

afterEach(stopAll)

async function until(what: string, ms: number, fn: () => boolean): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await sleep(50)
  }
}

/** HUP, then wait until every worker was replaced by a ready one. */
async function hup(p: Paddock, n: number): Promise<void> {
  const before = childPids(p.pid)
  process.kill(p.pid, 'SIGHUP')
  await until('all workers replaced', 30_000, () => {
    const now = childPids(p.pid)
    return now.length === n && now.every((x) => !before.includes(x))
  })
  // ready, not just forked: the arbiter drains the old ones only once the new are ready
  await sleep(300)
}

const CLASSES: { cls: string; args: string[]; other: string[] }[] = [
  { cls: 'sync', args: ['-k', 'sync'], other: ['async'] },
  { cls: 'gthread', args: ['-k', 'gthread', '--threads', '4'], other: ['async'] },
  { cls: 'async', args: ['-k', 'async'], other: ['gthread', '--threads', '4'] },
]

describe('operations under load lose nothing', () => {
  for (const { cls, args, other } of CLASSES) {
    it(`${cls}: 5 HUP, 5 TTIN + 5 TTOU, 2 class changes, zero failed requests`, async () => {
      const sock = join(mkdtempSync(join(tmpdir(), 'paddock-ops-')), 'ctl.sock')
      const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '--control-socket', sock, ...args, DEMO], { bind: false })
      await waitForWorkers(p, 2)
      const load = countingLoad(p.port, '/io?ms=20', 12)
      await sleep(500)
      for (let i = 0; i < 5; i++) await hup(p, 2)
      for (let i = 0; i < 5; i++) {
        process.kill(p.pid, 'SIGTTIN')
        await until('a third worker', 15_000, () => childPids(p.pid).length === 3)
        await sleep(300)
        process.kill(p.pid, 'SIGTTOU')
        await until('back to two workers', 15_000, () => childPids(p.pid).length === 2)
      }
      // there and back again: each change is a rolling reload, answered when it is done
      const to = await runCli(['ctl', '--socket', sock, 'class', ...other], { timeoutMs: 60_000 })
      expect(to.code, to.stderr).toBe(0)
      const back = await runCli(['ctl', '--socket', sock, 'class', ...args.slice(1)], { timeoutMs: 60_000 })
      expect(back.code, back.stderr).toBe(0)
      await sleep(300)
      await load.stop()
      const c = load.counts()
      console.log(`${cls}: ${c.ok} ok, ${c.refused} refused, ${c.reset} reset, ${c.timeout} timeout, ${c.non2xx} non-2xx, ${c.other} other`)
      expect(c.ok).toBeGreaterThan(100)
      expect({ refused: c.refused, reset: c.reset, timeout: c.timeout, non2xx: c.non2xx, other: c.other }).toEqual({ refused: 0, reset: 0, timeout: 0, non2xx: 0, other: 0 })
    })
  }
})
