import { afterEach, describe, expect, it } from 'vitest'
import { workerExecArgv } from '../../../dist/server/arbiter/exec-argv.js'
import { get, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { fileURLToPath } from 'node:url'

const APP = fileURLToPath(new URL('../../fixtures/apps/exec-argv.mjs', import.meta.url))

afterEach(() => stopAll())

describe('node flags given to paddock reach the workers', () => {
  it('passes flags through, gives each worker its own inspector port, drops --watch', () => {
    expect(workerExecArgv(['--max-old-space-size=300', '--import', './t.mjs', '-r', 'x'])).toEqual(['--max-old-space-size=300', '--import', './t.mjs', '-r', 'x'])
    expect(workerExecArgv(['--inspect'])).toEqual(['--inspect=127.0.0.1:0'])
    expect(workerExecArgv(['--inspect-brk=9230', '--enable-source-maps'])).toEqual(['--enable-source-maps', '--inspect=127.0.0.1:0'])
    expect(workerExecArgv(['--inspect=0.0.0.0:9229'])).toEqual(['--inspect=0.0.0.0:0'])
    expect(workerExecArgv(['--inspect-wait=[::1]:9229', '--inspect-port', '9300'])).toEqual(['--inspect=[::1]:0'])
    expect(workerExecArgv(['--watch', '--watch-path', 'src', '--watch-path=lib', '--stack-size=2000'])).toEqual(['--stack-size=2000'])
    expect(workerExecArgv([])).toEqual([])
  })

  for (const cls of ['sync', 'gthread'] as const) {
    it(`a heap limit given to node applies in ${cls} workers${cls === 'gthread' ? ' and their threads' : ''}`, async () => {
      const p = await startPaddock(['-w', '1', '-k', cls, ...(cls === 'gthread' ? ['--threads', '2'] : []), APP], { nodeArgs: ['--max-old-space-size=300'] })
      await waitForWorkers(p, 1)
      const seen = new Set<number>()
      for (let i = 0; i < 8; i++) {
        const r = JSON.parse((await get(p.port, '/')).body) as { pid: number; threadId: number; execArgv: string[]; heapLimitMiB: number }
        expect(r.pid).not.toBe(p.pid)
        expect(r.execArgv).toContain('--max-old-space-size=300')
        // V8 rounds the limit a little; the default on this machine is thousands of MiB
        expect(r.heapLimitMiB).toBeGreaterThan(250)
        expect(r.heapLimitMiB).toBeLessThan(400)
        seen.add(r.threadId)
      }
      if (cls === 'gthread') expect([...seen].every((t) => t > 0)).toBe(true)
    })
  }

  it('--inspect on the master gives every worker an inspector on a port of its own', async () => {
    const p = await startPaddock(['-w', '2', APP], { nodeArgs: ['--inspect=127.0.0.1:0'] })
    await waitForWorkers(p, 2)
    const deadline = Date.now() + 10_000
    const ports = () => new Set([...p.output().matchAll(/Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)\//g)].map((m) => m[1]))
    // the master's and one per worker (and the binder's, when it binds through a child)
    while (ports().size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(ports().size).toBeGreaterThanOrEqual(3)
    expect((await get(p.port, '/')).status).toBe(200)
  })
})
