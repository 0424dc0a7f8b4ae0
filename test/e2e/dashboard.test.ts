/**
 * The dashboard in real Chromium against `paddock dashboard` hosting the demo app: what the
 * window shows must match the OS, and every button must do what it says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { stopAll } from '../helpers/proc.js'
import { openDashboard, screenshot, shownPids, until, workerPids, type Dashboard } from '../helpers/browser.js'

let d: Dashboard

const liveCards = '[data-testid=worker-card]:not([data-state=exited])'
const readyCards = '[data-testid=worker-card][data-state=ready]'

async function cardCount(sel: string): Promise<number> {
  return (await d.page.$$(sel)).length
}

describe('dashboard in Chromium', () => {
  beforeAll(async () => {
    d = await openDashboard(['-w', '2'])
    await until(async () => (await cardCount(readyCards)) === 2, 20_000, 'two ready workers on screen')
  })
  afterAll(async () => {
    await d?.browser.close().catch(() => {})
    await stopAll()
  })

  it('shows the workers the OS has, with the master pid', async () => {
    const os = await until(() => (workerPids(d.paddock.pid).length === 2 ? workerPids(d.paddock.pid) : null), 10_000, 'two worker processes')
    expect(await shownPids(d.page)).toEqual(os.value!.sort((a, b) => a - b))
    expect(await d.page.textContent('[data-testid=hdr-pid]')).toBe(String(d.paddock.pid))
    expect(await d.page.textContent('[data-testid=hdr-target]')).toBe('2')
    await screenshot(d.page, 'workers')
  })

  it('TTIN shows one more worker, TTOU one fewer, both matching the OS', async () => {
    await d.page.click('[data-testid=btn-ttin]')
    const up = await until(async () => (await cardCount(readyCards)) === 3, 10_000, 'a third ready worker')
    // the issue asks for "within a second"; the bound here is wide for a loaded CI machine, the figure is printed
    console.log(`TTIN: third worker shown ready after ${up.tookMs} ms`)
    expect(up.tookMs).toBeLessThan(8_000)
    expect(await shownPids(d.page)).toEqual(workerPids(d.paddock.pid).sort((a, b) => a - b))

    await d.page.click('[data-testid=btn-ttou]')
    // a success toast leaves after a few seconds: watch for it while the worker drains
    const [down] = await Promise.all([
      until(async () => (await cardCount(liveCards)) === 2 && workerPids(d.paddock.pid).length === 2, 15_000, 'back to two workers'),
      until(async () => (await d.page.$$('[data-testid=action-toast][data-cmd="workers.remove"][data-state=ok]')).length > 0, 15_000, 'TTOU result shown'),
    ])
    console.log(`TTOU: back to two workers after ${down.tookMs} ms`)
    expect(await d.page.textContent('[data-testid=hdr-target]')).toBe('2')
  })

  it('HUP shows a new generation replacing the old one', async () => {
    const before = await shownPids(d.page)
    const gen = Number(await d.page.getAttribute(readyCards, 'data-generation'))
    await d.page.click('[data-testid=btn-hup]')
    const toast = until(async () => (await d.page.$$('[data-testid=action-toast][data-cmd=reload][data-state=ok]')).length > 0, 30_000, 'reload result shown')
    toast.catch(() => {}) // awaited below; a failure before that is reported by the step that failed
    await until(async () => (await d.page.$$('[data-testid=generations]')).length > 0, 10_000, 'the generations timeline')
    await until(
      async () => {
        const gens = await d.page.$$eval(liveCards, (els) => els.map((e) => Number((e as HTMLElement).dataset.generation)))
        return gens.length === 2 && gens.every((g) => g === gen + 1) && (await cardCount(readyCards)) === 2
      },
      30_000,
      `two ready workers of generation ${gen + 1}`,
    )
    await toast
    const after = await shownPids(d.page)
    expect(after.filter((p) => before.includes(p))).toEqual([])
    expect(after).toEqual(workerPids(d.paddock.pid).sort((a, b) => a - b))
    // the live workers come first on screen; the exited ones after them, a few at most
    const states = await d.page.$$eval('[data-testid=worker-card]', (els) => els.map((e) => (e as HTMLElement).dataset.state))
    expect(states.slice(0, 2).every((s) => s !== 'exited')).toBe(true)
    expect(states.slice(2).every((s) => s === 'exited')).toBe(true)
    expect(states.length - 2).toBeLessThanOrEqual(4)
    await screenshot(d.page, 'reload')
  })

  it('switching to gthread with 4 threads shows 4 thread slots per worker', async () => {
    await d.page.selectOption('[data-testid=class-select]', 'gthread')
    await d.page.fill('[data-testid=threads-input]', '4')
    await d.page.click('[data-testid=btn-class]')
    await until(
      async () => {
        const slots = await d.page.$$eval(`${readyCards}`, (els) => els.map((e) => e.querySelectorAll('[data-testid=thread-slot]').length))
        return slots.length === 2 && slots.every((n) => n === 4) && (await cardCount(liveCards)) === 2
      },
      40_000,
      'two gthread workers with 4 slots each',
    )
    expect(await d.page.textContent('[data-testid=hdr-class]')).toContain('gthread × 4')
    await screenshot(d.page, 'gthread')
  })

  it('a worker killed from the OS shows its exit and its replacement', async () => {
    const [victim] = await shownPids(d.page)
    process.kill(victim!, 'SIGKILL')
    await d.page.click('[data-testid=tab-events]')
    await until(
      async () => (await d.page.$$eval('[data-testid=event-line][data-kind="worker.exited"]', (els) => els.map((e) => e.textContent ?? ''))).some((t) => t.includes(String(victim)) && t.includes('SIGKILL')),
      10_000,
      `the exit of ${victim} in the events list`,
    )
    await screenshot(d.page, 'events')
    await d.page.click('[data-testid=tab-workers]')
    await until(async () => (await cardCount(readyCards)) === 2 && !(await shownPids(d.page)).includes(victim!), 15_000, 'a replacement worker')
    expect(await shownPids(d.page)).toEqual(workerPids(d.paddock.pid).sort((a, b) => a - b))
  })

  it('a load started from the UI moves req/s and in-flight, fills the timeline, and its result can be saved', async () => {
    await d.page.click('[data-testid=tab-load]')
    await d.page.fill('[data-testid=load-url]', '/io?ms=50')
    await d.page.fill('[data-testid=load-connections]', '16')
    await d.page.fill('[data-testid=load-duration]', '5')
    await d.page.click('[data-testid=btn-load-start]')
    await until(async () => Number(await d.page.textContent('[data-testid=load-requests]').catch(() => '0')) > 0, 10_000, 'load progress')
    await d.page.click('[data-testid=tab-workers]')
    const rps = await until(async () => Number((await d.page.textContent('[data-testid=hdr-rps]'))?.replace('k', '')) > 0, 10_000, 'req/s above 0 in the header')
    expect(rps.value).toBe(true)
    await until(
      async () => (await d.page.$$eval('[data-testid=worker-inflight]', (els) => els.map((e) => Number(e.textContent)))).some((n) => n > 0),
      10_000,
      'a worker with requests in flight',
    )
    await screenshot(d.page, 'under-load')
    await d.page.click('[data-testid=tab-timeline]')
    await until(async () => Number(await d.page.getAttribute('[data-testid=timeline-canvas]', 'data-spans')) > 0, 10_000, 'spans in the timeline')
    await screenshot(d.page, 'timeline')
    await d.page.click('[data-testid=tab-load]')
    await d.page.waitForSelector('[data-testid=btn-save-json]', { timeout: 20_000 })
    await screenshot(d.page, 'load')
    const [download] = await Promise.all([d.page.waitForEvent('download'), d.page.click('[data-testid=btn-save-json]')])
    const saved = JSON.parse(readFileSync((await download.path())!, 'utf8'))
    expect(saved.requests).toBeGreaterThan(0)
    expect(saved.options.url).toContain('/io?ms=50')
  })

  it('a bad command is answered with a clear error and the server keeps serving', async () => {
    await d.page.click('[data-testid=tab-workers]')
    const before = await shownPids(d.page)
    await d.page.fill('[data-testid=app-input]', './no/such/app.mjs')
    await d.page.click('[data-testid=btn-app]')
    const toast = await until(
      async () => (await d.page.$$eval('[data-testid=action-error][data-cmd="app.set"]', (els) => els.map((e) => e.textContent ?? '')))[0],
      10_000,
      'an error toast for app.set',
    )
    expect(toast.value).toMatch(/no such module/)
    expect(await shownPids(d.page)).toEqual(before)
    expect(d.errors).toEqual([])
  })
})
