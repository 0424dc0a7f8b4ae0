/**
 * The browser side of the e2e tests: `paddock dashboard` as a real process (tracked and
 * stopped by pid through proc.ts) and Debian's Chromium driven by Playwright.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT, childPids, startPaddock, type Paddock } from './proc.js'

export const ARTIFACTS = join(ROOT, 'artifacts')
export const SHOTS = join(ARTIFACTS, 'screenshots')

export function chromiumPath(): string {
  const candidates = [process.env.PADDOCK_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[]
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error('no Chromium found: install Debian\'s chromium package or set PADDOCK_CHROMIUM (npm test installs it when run as root)')
  return found
}

export interface Dashboard {
  paddock: Paddock
  url: string
  browser: Browser
  page: Page
  errors: string[]
}

/** Start `paddock dashboard` with `args` and open its page. */
export async function openDashboard(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Dashboard> {
  if (!existsSync(join(ROOT, 'out/renderer/index.html'))) throw new Error('the renderer is not built: run `npm run build:app` first (npm test does)')
  const paddock = await startPaddock(['dashboard', '-b', '127.0.0.1:0', '--port', '0', '--no-control-socket', ...args], { bind: false, env: opts.env })
  const [, url] = await paddock.waitFor(/paddock dashboard: (http:\/\/\S+)/)
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu'] })
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true })
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  await page.goto(url!)
  return { paddock, url: url!, browser, page, errors }
}

/** Worker processes of a paddock master, told apart from its other children (binder, load runner) by their command line. */
export function workerPids(masterPid: number): number[] {
  return childPids(masterPid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker/main.js')
    } catch {
      return false
    }
  })
}

/**
 * A screenshot for people to look at (artifacts/screenshots), not an assertion: on a machine
 * so loaded that Chromium cannot paint one in a minute, the test goes on without it and says so.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  try {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, timeout: 60_000 })
  } catch (err) {
    console.warn(`screenshot ${name} not taken: ${(err as Error).message.split('\n')[0]}`)
  }
}

/** pids shown on live (non-exited) worker cards */
export async function shownPids(page: Page): Promise<number[]> {
  const pids = await page.$$eval('[data-testid=worker-card]:not([data-state=exited])', (els) => els.map((e) => Number((e as HTMLElement).dataset.pid)))
  return pids.sort((a, b) => a - b)
}

/** Poll `fn` until it returns a truthy value, up to `ms`; returns the value and how long it took. */
export async function until<T>(fn: () => Promise<T> | T, ms: number, what: string): Promise<{ value: T; tookMs: number }> {
  const t0 = Date.now()
  for (;;) {
    const value = await fn()
    if (value) return { value, tookMs: Date.now() - t0 }
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
