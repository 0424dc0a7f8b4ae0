/**
 * The Fleet view in real Chromium: `paddock dashboard` on 127.0.0.1 relays to two servers'
 * TCP control endpoints on 127.0.0.2 and 127.0.0.3. Both servers' worker pids are shown, a
 * rolling reload is followed server by server to the end, a server that stops is shown as
 * disconnected, and "open" shows a fleet server in the per-server views. A server on this
 * machine (its control socket in the dashboard's $XDG_RUNTIME_DIR/paddock/) is added with one
 * click and no token.
 */
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEMO, runCli, sleep, startPaddock, stopAll, waitForWorkers } from '../helpers/proc.js'
import { openDashboard, screenshot, shownPids, until, workerPids, type Dashboard } from '../helpers/browser.js'
import { startFleetServer, tokenFile, type FleetServer } from '../helpers/fleet.js'

let d: Dashboard | null = null
afterAll(async () => {
  await d?.browser.close().catch(() => {})
  await stopAll()
})

const row = (s: FleetServer) => `[data-testid=fleet-row][data-address="${s.control}"]`
const cell = async (s: FleetServer, testid: string) => ((await d!.page.textContent(`${row(s)} [data-testid=${testid}]`).catch(() => null)) ?? '').trim()
const pidsShown = async (s: FleetServer) => (await cell(s, 'fleet-pids')).split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b)
const samePids = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i])

describe('Fleet view', () => {
  it('shows two servers with their worker pids and follows a rolling reload to the end', async () => {
    const tok = tokenFile()
    const a = await startFleetServer('127.0.0.2', DEMO, { token: tok, workers: 2 })
    const b = await startFleetServer('127.0.0.3', DEMO, { token: tok, workers: 1 })
    // a third server on this machine with only its Unix control socket (no --control-bind)
    const env = { XDG_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'paddock-xdg-')) }
    const local = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', DEMO], { bind: false, env })
    await waitForWorkers(local, 1)
    const localSock = join(env.XDG_RUNTIME_DIR, 'paddock', `${local.pid}.sock`)
    for (let t = Date.now(); !existsSync(localSock) && Date.now() - t < 20_000; ) await sleep(100)
    d = await openDashboard(['-w', '1'], { env })
    const page = d.page
    await page.click('[data-testid=tab-fleet]')
    for (const s of [a, b]) {
      await page.fill('[data-testid=fleet-address]', s.control)
      await page.fill('[data-testid=fleet-token]', s.token)
      await page.click('[data-testid=fleet-add]')
    }
    // the token never lands in the page's URL
    expect(page.url()).not.toContain(tok.token)
    for (const s of [a, b]) {
      await until(async () => samePids(await pidsShown(s), workerPids(s.paddock.pid).sort((x, y) => x - y)), 20_000, `${s.control}'s worker pids on screen`)
      expect(await cell(s, 'fleet-state')).toBe('running')
    }
    expect(await cell(a, 'fleet-workers')).toBe('2/2')
    expect(await cell(b, 'fleet-workers')).toBe('1/1')
    expect(await page.textContent('[data-testid=fleet-total]')).toMatch(/2\/2 connected\s*3\/3/)

    // one click adds the local server, without a token; then it is removed again so the rest runs on two
    await page.click('[data-testid=fleet-local]')
    const localRow = `[data-testid=fleet-row][data-address="unix:${localSock}"]`
    await until(async () => samePids(((await page.textContent(`${localRow} [data-testid=fleet-pids]`).catch(() => null)) ?? '').split(/\s+/).filter(Boolean).map(Number).sort((x, y) => x - y), workerPids(local.pid).sort((x, y) => x - y)), 20_000, "the local server's worker pids on screen")
    expect((await page.textContent(`${localRow} td`))!.trim()).toBe(`local: ${local.pid}.sock`)
    expect(await page.textContent('[data-testid=fleet-local-note]')).toMatch(/^1 local server in .*: 1 added$/)
    await screenshot(page, 'fleet-local')
    await page.click(`${localRow} button:has-text("remove")`)
    await until(async () => (await page.$(localRow)) === null, 5000, 'the local row removed')
    const before = { a: await pidsShown(a), b: await pidsShown(b) }
    await screenshot(page, 'fleet')

    await page.click('[data-testid=fleet-rolling]')
    // one server at a time: while the first reloads, the second waits
    await until(async () => (await page.getAttribute(`${row(a)} [data-testid=fleet-progress]`, 'data-step')) === 'reloading', 10_000, 'the first server reloading')
    expect(await page.getAttribute(`${row(b)} [data-testid=fleet-progress]`, 'data-step')).toBe('waiting')
    await until(async () => /rolling reload done: 2 servers/.test((await page.textContent('[data-testid=fleet-rollout]').catch(() => null)) ?? ''), 60_000, 'the rollout to finish')
    for (const s of [a, b]) expect(await page.getAttribute(`${row(s)} [data-testid=fleet-progress]`, 'data-step')).toBe('done')
    // every worker replaced, and the screen shows the new ones
    for (const [s, old] of [[a, before.a], [b, before.b]] as const) {
      await until(async () => {
        const now = await pidsShown(s)
        return now.length === old.length && now.every((p) => !old.includes(p)) && samePids(now, workerPids(s.paddock.pid).sort((x, y) => x - y))
      }, 20_000, `${s.control}'s new generation on screen`)
      const st = await runCli(['ctl', '--remote', s.control, '--token-file', tok.file, 'status', '--json'])
      expect(JSON.parse(st.stdout).generation).toBe(2)
    }
    await screenshot(page, 'fleet-rolled')

    // click through: the per-server views show that server
    await page.click(`${row(b)} [data-testid=fleet-open]`)
    await until(async () => (await page.textContent('[data-testid=hdr-pid]').catch(() => null)) === String(b.paddock.pid), 15_000, 'the header showing the fleet server')
    await until(async () => samePids(await shownPids(page), workerPids(b.paddock.pid).sort((x, y) => x - y)), 15_000, "the fleet server's worker cards")
    await page.click('[data-testid=back-to-own]')
    await until(async () => (await page.textContent('[data-testid=hdr-pid]').catch(() => null)) === String(d!.paddock.pid), 15_000, "the dashboard's own server again")

    // a server that goes away is shown as disconnected (and retried with back-off)
    await page.click('[data-testid=tab-fleet]')
    b.paddock.child.kill('SIGKILL')
    for (const pid of workerPids(b.paddock.pid)) process.kill(pid, 'SIGKILL')
    await until(async () => (await cell(b, 'fleet-state')).startsWith('disconnected'), 15_000, 'the stopped server shown as disconnected')
    expect(await cell(a, 'fleet-state')).toBe('running')
    expect(await page.textContent('[data-testid=fleet-total]')).toMatch(/1\/2 connected/)
    expect(d.errors.filter((e) => !/WebSocket|ERR_CONNECTION|closed/.test(e))).toEqual([])
  })
})
