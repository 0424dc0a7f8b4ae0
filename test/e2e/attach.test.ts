/**
 * The browser dashboard attached to a server started from the CLI (`paddock dashboard
 * --attach SOCKET`): it shows that server's workers and steers it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { DEMO, childPids, startPaddock, stopAll, waitForWorkers } from '../helpers/proc.js'
import { chromiumPath, screenshot, shownPids, until } from '../helpers/browser.js'

let browser: Browser | null = null
afterAll(async () => {
  await browser?.close().catch(() => {})
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
})
