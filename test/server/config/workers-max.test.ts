/**
 * `-w max` / `workers: 'max'`: one worker per CPU this process may use (usableCpus(): the
 * affinity mask lowered by a cgroup quota; the quota itself is tested on fake cgroup trees in
 * test/server/platform/cpus.test.ts). Real processes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { DEMO, childPids, runCli, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { usableCpus } from '../../../src/server/platform/cpus.js'

afterEach(stopAll)

describe('-w max', () => {
  it('starts one worker per usable CPU', async () => {
    const n = usableCpus().count
    expect(n).toBeLessThanOrEqual(os.availableParallelism())
    const p = await startPaddock(['-w', 'max', DEMO])
    await waitForWorkers(p, n)
    await sleep(500)
    expect(childPids(p.pid)).toHaveLength(n)
  })

  it("takes workers: 'max' in a config file, and refuses other words", async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'paddock-wmax-'))
    writeFileSync(join(dir, 'paddock.config.mjs'), "export default { workers: 'max' }\n")
    const printed = await runCli(['--print-config', DEMO], { cwd: dir })
    expect(printed.code).toBe(0)
    expect(JSON.parse(printed.stdout).settings.workers).toBe(usableCpus().count)
    const bad = await runCli(['-w', 'lots', DEMO])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--workers.*"lots".*not a number/)
  })
})
