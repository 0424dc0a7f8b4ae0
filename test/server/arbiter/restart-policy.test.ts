/**
 * The crash-loop limit and the back-off are settings (issue 15): a process test with a worker
 * that dies right after it is ready, and --help naming them with their defaults.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { FIXTURES, alive, runCli, sleep, startPaddock, stopAll } from '../../helpers/proc.js'

afterEach(stopAll)

describe('restart policy settings', () => {
  it('--crash-loop-limit and --restart-backoff set when a crash loop ends and how long it waits', async () => {
    const p = await startPaddock(['-w', '1', '--crash-loop-limit', '2', '--restart-backoff', '0.5', '--restart-backoff-max', '0.7', join(FIXTURES, 'apps/crash-after-ready.mjs')])
    await p.waitFor(/workers keep failing \(2 times in a row\)/, 30_000)
    // the first wait is the base doubled, capped by the maximum
    expect(p.output()).toMatch(/counted as a crash 1\/2 in a row; next spawn in 700 ms/)
    const spawned = (p.output().match(/Booting worker/g) ?? []).length
    expect(spawned).toBe(2)
    await sleep(1200)
    expect((p.output().match(/Booting worker/g) ?? []).length).toBe(spawned)
    expect(alive(p.pid)).toBe(true)
  })

  it('--help lists the restart policy with its defaults', async () => {
    const { stdout, code } = await runCli(['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/--crash-loop-limit INT .*\[default: 5\]/)
    expect(stdout).toMatch(/--restart-backoff SECONDS .*\[default: 0\.1\]/)
    expect(stdout).toMatch(/--restart-backoff-max SECONDS .*\[default: 10\]/)
  })
})
