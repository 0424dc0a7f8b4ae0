/**
 * --reload: a saved change to the app reloads the workers; a change that does not boot
 * leaves the last good generation serving; node_modules and editor scratch files are not
 * changes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { get, sleep, startPaddock, stopAll } from '../../helpers/proc.js'

afterEach(stopAll)

const app = (body: string) => `export default (req, res) => res.end(${JSON.stringify(body)})\n`

async function until(port: number, body: string, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if ((await get(port, '/').catch(() => ({ body: '' }))).body === body) return true
    await sleep(100)
  }
  return false
}

describe('--reload', () => {
  it('reloads on a saved change, keeps serving through a broken save, and ignores node_modules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-reload-'))
    const file = join(dir, 'app.mjs')
    writeFileSync(file, app('v1'))
    const p = await startPaddock(['-w', '2', '--reload', file])
    await p.waitFor(/Watching .* for changes/)
    expect((await get(p.port, '/')).body).toBe('v1')

    writeFileSync(file, app('v2'))
    expect(await until(p.port, 'v2')).toBe(true)
    // the whole generation v2, not only its first worker: a worker of it still booting when
    // the broken save lands would load the broken file and roll the reload back to v1
    await p.waitFor(/Reload 1 done/)

    // a save that does not even parse: the log says why, v2 keeps answering
    writeFileSync(file, 'export default (req, res) => { this is not javascript\n')
    await p.waitFor(/reload failed, the previous generation keeps serving/)
    expect((await get(p.port, '/')).body).toBe('v2')

    // not the app's source: no reload
    const reloadsBefore = (p.output().match(/Reloading: /g) ?? []).length
    mkdirSync(join(dir, 'node_modules'), { recursive: true })
    writeFileSync(join(dir, 'node_modules', 'dep.js'), 'x')
    writeFileSync(join(dir, '.app.mjs.swp'), 'x')
    await sleep(800)
    expect((p.output().match(/Reloading: /g) ?? []).length).toBe(reloadsBefore)

    // the next good save is picked up
    writeFileSync(file, app('v3'))
    expect(await until(p.port, 'v3')).toBe(true)
  })
})
