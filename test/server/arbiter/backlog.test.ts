/**
 * --backlog reaches the kernel: the listen queue of the bound socket is what the setting says
 * once the workers listen, in every class. Each worker's listen() on its inherited fd resets
 * the queue length, and Node's `{ fd }` listen ignores the options' backlog: 511 was left.
 * `ss -ltn` shows a listening socket's queue length in its Send-Q column.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { FIXTURES, DEMO, startPaddock, stopAll } from '../../helpers/proc.js'

afterEach(stopAll)

function listenQueueLength(port: number): number {
  const out = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim()
  const cols = out.split(/\s+/)
  // State Recv-Q Send-Q Local Peer
  return Number(cols[2])
}

describe('--backlog', () => {
  for (const cls of ['sync', 'gthread', 'async', 'native'] as const) {
    it(`sets the kernel's listen queue to 1000 under ${cls}`, async () => {
      const app = cls === 'native' ? join(FIXTURES, 'apps/native-extras.mjs') : DEMO
      const p = await startPaddock(['-w', '2', '-k', cls, '--backlog', '1000', '--log-level', 'debug', app])
      // a worker is ready once it listened on every fd: after both, the queue length is final
      await p.waitFor(/Worker ready[\s\S]*Worker ready/)
      expect(listenQueueLength(p.port)).toBe(1000)
    })
  }
})
