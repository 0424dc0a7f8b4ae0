import { afterEach, describe, expect, it } from 'vitest'
import { DEMO, alive, childPids, sleep, startPaddock, stopAll } from '../../helpers/proc.js'

afterEach(stopAll)

describe('many workers', () => {
  it('TERM while 64 workers are being forked stops the forking at once, and the server exits within --graceful-timeout', async () => {
    const p = await startPaddock(['-w', '64', '--max-workers', '64', '--graceful-timeout', '5', DEMO])
    // the first worker is being forked now: TERM right away
    await p.waitFor(/Booting worker with pid/)
    const seen = new Set<number>()
    const t0 = Date.now()
    process.kill(p.pid, 'SIGTERM')
    for (const pid of childPids(p.pid)) seen.add(pid)
    const exited = await Promise.race([p.exited, sleep(8000).then(() => null)])
    const tookMs = Date.now() - t0
    expect(exited).not.toBeNull()
    expect(tookMs).toBeLessThan(7000)
    const booted = (p.output().match(/Booting worker with pid/g) ?? []).length
    // forking one worker at a time with the loop turning between them: the TERM is handled
    // after a few forks (on a loaded machine maybe a dozen), never after all 64
    expect(booted).toBeLessThan(32)
    for (const pid of seen) expect(alive(pid)).toBe(false)
  })
})
