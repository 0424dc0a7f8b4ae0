/**
 * The browser dashboard attached to a server started from the CLI (`paddock dashboard
 * --attach SOCKET`): it shows that server's workers and steers it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { DEMO, alive, childPids, killTree, startPaddock, stopAll, waitForWorkers } from '../helpers/proc.js'
import { chromiumPath, screenshot, shownPids, until } from '../helpers/browser.js'

let browser: Browser | null = null
/** masters started by USR2 are children of the old master, not of the test: killed by pid here */
const newMasters: number[] = []
afterAll(async () => {
  await browser?.close().catch(() => {})
  for (const pid of newMasters) killTree(pid)
  await stopAll()
})

describe('dashboard --attach', () => {
  it('shows and steers an arbiter started from the CLI', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'paddock-attach-')), 'ctl.sock')
    const server = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(server, 2)
    await until(() => existsSync(sock), 5000, 'the control socket')
    const dash = await startPaddock(['dashboard', '--port', '0', '--attach', sock], { bind: false, ready: /paddock dashboard \(attached to [^)]*\): (http:\/\/\S+)/ })
    const [, url] = await dash.waitFor(/paddock dashboard \(attached to [^)]*\): (http:\/\/\S+)/)
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu'] })
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(url!)
    await until(async () => (await page.$$('[data-testid=worker-card][data-state=ready]')).length === 2, 15_000, 'two workers of the CLI server')
    expect(await page.textContent('[data-testid=hdr-pid]')).toBe(String(server.pid))
    expect(await shownPids(page)).toEqual(childPids(server.pid))
    await page.click('[data-testid=btn-ttin]')
    await until(() => childPids(server.pid).length === 3, 10_000, 'a third worker on the CLI server')
    await until(async () => (await page.$$('[data-testid=worker-card][data-state=ready]')).length === 3, 10_000, 'three workers on screen')
    await screenshot(page, 'attached')
  })

  it('upgrades the master from the browser: USR2, WINCH, stop, and the page follows the new master', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'paddock-attach-')), 'ctl.sock')
    const server = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '--control-socket', sock, DEMO], { bind: false })
    const [oldWorker] = await waitForWorkers(server, 1)
    await until(() => existsSync(sock), 5000, 'the control socket')
    const dash = await startPaddock(['dashboard', '--port', '0', '--attach', sock], { bind: false, ready: /paddock dashboard \(attached to [^)]*\): (http:\/\/\S+)/ })
    const [, url] = await dash.waitFor(/paddock dashboard \(attached to [^)]*\): (http:\/\/\S+)/)
    browser ??= await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu'] })
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(url!)
    await until(async () => (await page.$$('[data-testid=worker-card][data-state=ready]')).length === 1, 15_000, 'the CLI server\'s worker')

    await page.click('[data-testid=btn-usr2]')
    const { value: state } = await until(async () => {
      const t = (await page.textContent('[data-testid=upgrade-state]').catch(() => null)) ?? ''
      return /serves beside this one/.test(t) ? t : null
    }, 30_000, 'the new master serving beside the old one')
    const newPid = Number(/new master (\d+)/.exec(state!)?.[1])
    newMasters.push(newPid)
    expect(childPids(server.pid)).toContain(newPid)
    await screenshot(page, 'upgrade')

    await page.click('[data-testid=btn-winch]')
    await until(() => childPids(server.pid).filter((p) => p !== newPid).length === 0, 15_000, 'the old master without workers')
    expect(childPids(server.pid)).toEqual([newPid])
    expect(alive(oldWorker!)).toBe(false)

    await page.click('[data-testid=btn-stop]')
    expect((await server.exited).code).toBe(0)
    // the page reconnects through the same socket path, which the new master now serves
    await until(async () => (await page.textContent('[data-testid=hdr-pid]').catch(() => null)) === String(newPid), 30_000, 'the page showing the new master')
    await until(async () => (await page.$$('[data-testid=worker-card][data-state=ready]')).length === 1, 15_000, 'the new master\'s worker')
    expect(await shownPids(page)).toEqual(childPids(newPid))
    expect(await page.$('[data-testid=hdr-old-master]')).toBeNull()
  })
})
