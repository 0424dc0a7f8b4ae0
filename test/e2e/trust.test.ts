/**
 * Issue 19 in real Chromium against `paddock dashboard`: a master that stops answering makes
 * the page say so and disables the actions, a new tab starts with the history, and the
 * Workers, Timeline, Load and Settings views are shot at 1024x700 and 1440x900 for people to
 * look at (artifacts/screenshots/issue19-*).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stopAll } from '../helpers/proc.js'
import { openDashboard, screenshot, until, type Dashboard } from '../helpers/browser.js'

let d: Dashboard

describe('dashboard data you can trust, in Chromium', () => {
  beforeAll(async () => {
    d = await openDashboard(['-w', '2', '-k', 'gthread', '--threads', '2'])
    await until(async () => (await d.page.$$('[data-testid=worker-card][data-state=ready]')).length === 2, 20_000, 'two ready workers')
  })
  afterAll(async () => {
    try {
      process.kill(d?.paddock.pid, 'SIGCONT')
    } catch {}
    await d?.browser.close().catch(() => {})
    await stopAll()
  })

  it('a stopped master greys the page, says how old the data is and disables the actions; it recovers on SIGCONT', async () => {
    expect(await d.page.isEnabled('[data-testid=btn-hup]')).toBe(true)
    process.kill(d.paddock.pid, 'SIGSTOP')
    try {
      await until(async () => (await d.page.$('[data-testid=hdr-stale]')) !== null, 10_000, 'the stale warning')
      expect(await d.page.textContent('[data-testid=hdr-stale]')).toMatch(/no update for \d+ s/)
      expect(await d.page.isDisabled('[data-testid=btn-hup]')).toBe(true)
      expect(await d.page.isDisabled('[data-testid=btn-kill] >> nth=0')).toBe(true)
      await screenshot(d.page, 'issue19-stale')
    } finally {
      process.kill(d.paddock.pid, 'SIGCONT')
    }
    await until(async () => (await d.page.$('[data-testid=hdr-stale]')) === null, 10_000, 'fresh data again')
    expect(await d.page.isEnabled('[data-testid=btn-hup]')).toBe(true)
  })

  it('a new tab starts with the history the server kept', async () => {
    const tab = await d.browser.newPage({ viewport: { width: 1024, height: 700 } })
    await tab.goto(d.url)
    // the lifecycle events of workers spawned before this tab existed
    await tab.click('[data-testid=tab-events]')
    await until(async () => (await tab.$$('[data-testid=event-line][data-kind="worker.ready"]')).length >= 2, 10_000, 'replayed ready events')
    await tab.close()
  })

  it('the views at 1024x700 and 1440x900', async () => {
    // something to look at: a short load from the Load view
    await d.page.click('[data-testid=tab-load]')
    await d.page.fill('[data-testid=load-url]', '/io?ms=50')
    await d.page.fill('[data-testid=load-duration]', '3')
    await d.page.click('[data-testid=btn-load-start]')
    await until(async () => (await d.page.$('[data-testid=load-live]')) !== null, 10_000, 'the load running')
    await d.page.waitForTimeout(3500)
    for (const [w, h] of [[1024, 700], [1440, 900]] as const) {
      await d.page.setViewportSize({ width: w, height: h })
      for (const view of ['workers', 'timeline', 'load', 'settings']) {
        await d.page.click(`[data-testid=tab-${view}]`)
        await d.page.waitForTimeout(400)
        await screenshot(d.page, `issue19-${view}-${w}x${h}`)
      }
    }
    // text in the charts is not scaled with the plot: a tick label keeps its font size at both widths
    await d.page.click('[data-testid=tab-workers]')
    const size = await d.page.$eval('[data-testid=y-tick]', (e) => (e as SVGTextElement).getBoundingClientRect().height)
    expect(size).toBeLessThan(16)
  })
})
