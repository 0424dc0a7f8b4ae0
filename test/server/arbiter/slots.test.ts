/**
 * Worker slots: PADDOCK_WORKER_ID is 0..N-1 among the serving workers and a replacement takes
 * the slot of the worker it replaces (kill -9, HUP); scaling down gives up the highest slots.
 * Real processes: each worker's slot is read from its own environment (/proc/PID/environ)
 * and from `paddock ctl workers`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEMO, alive, runCli, sleep, startPaddock, stopAll } from '../../helpers/proc.js'
import { workerPids } from '../../helpers/browser.js'
import { freeSlot, surplus } from '../../../src/server/arbiter/slots.js'

afterEach(stopAll)

function slotOf(pid: number): number {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
  return Number(env.find((kv) => kv.startsWith('PADDOCK_WORKER_ID='))!.split('=')[1])
}

/** the live workers' slots once there are exactly `n` of them for a moment */
async function slots(masterPid: number, n: number, exclude: number[] = []): Promise<Map<number, number>> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const pids = workerPids(masterPid).filter((p) => !exclude.includes(p))
    if (pids.length === n) {
      await sleep(300)
      const again = workerPids(masterPid).filter((p) => !exclude.includes(p))
      if (again.length === n && again.every((p) => pids.includes(p))) return new Map(again.map((p) => [p, slotOf(p)]))
    }
    if (Date.now() > deadline) throw new Error(`expected ${n} workers, have ${pids.length}`)
    await sleep(100)
  }
}

const sorted = (m: Map<number, number>) => [...m.values()].sort((a, b) => a - b)

describe('worker slots (PADDOCK_WORKER_ID)', () => {
  it('are 0..N-1, survive a kill -9 and a HUP, and scaling down keeps them contiguous', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'paddock-slots-')), 'ctl.sock')
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '3', '--control-socket', sock, DEMO], { bind: false })
    const first = await slots(p.pid, 3)
    expect(sorted(first)).toEqual([0, 1, 2])

    // kill -9 the worker in slot 1: its replacement is slot 1 again
    const victim = [...first].find(([, s]) => s === 1)![0]
    process.kill(victim, 'SIGKILL')
    const afterKill = await slots(p.pid, 3, [victim])
    expect(sorted(afterKill)).toEqual([0, 1, 2])
    const replacement = [...afterKill.keys()].find((pid) => !first.has(pid))!
    expect(afterKill.get(replacement)).toBe(1)

    // a rolling reload: the new generation takes 0..N-1 over
    process.kill(p.pid, 'SIGHUP')
    await p.waitFor(/Reload \d+ done/, 20_000)
    const afterHup = await slots(p.pid, 3, [...afterKill.keys()])
    expect(sorted(afterHup)).toEqual([0, 1, 2])

    // ctl workers shows the slot of each
    const table = await runCli(['ctl', '--socket', sock, 'workers'])
    expect(table.stdout.split('\n')[0]).toMatch(/^PID\s+SLOT\s+GEN/)
    for (const [pid, slot] of afterHup) expect(table.stdout).toMatch(new RegExp(`^${pid}\\s+${slot}\\s`, 'm'))

    // TTOU drains the highest slot
    process.kill(p.pid, 'SIGTTOU')
    const afterTtou = await slots(p.pid, 2)
    expect(sorted(afterTtou)).toEqual([0, 1])
    expect(alive(p.pid)).toBe(true)
  })
})

describe('slot policy', () => {
  it('gives the lowest free slot and drains the highest', () => {
    expect(freeSlot([])).toBe(0)
    expect(freeSlot([{ slot: 0 }, { slot: 2 }])).toBe(1)
    expect(freeSlot([{ slot: 1 }, { slot: 0 }])).toBe(2)
    const ws = [{ slot: 0, spawnedAt: 5 }, { slot: 2, spawnedAt: 9 }, { slot: 1, spawnedAt: 1 }]
    expect(surplus(ws, 2).map((w) => w.slot)).toEqual([2, 1])
  })
})
