/**
 * GET /healthz on the metrics listener, through a server's states: ok while a worker is
 * ready, 503 with a short JSON reason with no worker, while booting, errored and stopping.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, runCli, sleep, stopAll } from '../../helpers/proc.js'
import { startFleetServer } from '../../helpers/fleet.js'
import { until } from '../../helpers/browser.js'

afterEach(stopAll)

/** Boots as slowly as the file boot-ms beside it says; with the file crash beside it, dies 150 ms after it is ready. */
function stateApp(): { app: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-healthz-'))
  const app = join(dir, 'app.mjs')
  writeFileSync(join(dir, 'boot-ms'), '0')
  writeFileSync(app, `import { existsSync, readFileSync } from 'node:fs'
const here = new URL('.', import.meta.url).pathname
await new Promise((r) => setTimeout(r, Number(readFileSync(here + 'boot-ms', 'utf8'))))
if (existsSync(here + 'crash')) setTimeout(() => process.exit(1), 150)
export default (req, res) => setTimeout(() => res.end('ok'), Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0))
`)
  return { app, dir }
}

describe('/healthz', () => {
  it('follows the server through ready, no workers, booting, errored and stopping', async () => {
    const { app, dir } = stateApp()
    const s = await startFleetServer('127.0.0.2', app, { workers: 1, metrics: true })
    const health = async () => {
      const r = await get(s.metricsPort!, '/healthz', { host: '127.0.0.2' })
      return { code: r.status, body: JSON.parse(r.body) as { status: string; reason?: string; ready: number } }
    }
    const ctl = (...args: string[]) => runCli(['ctl', '--remote', s.control, '--token-file', s.tokenFile, ...args])
    const waitStatus = (status: string, ms = 15_000) => until(async () => ((await health()).body.status === status ? health() : null), ms, `healthz ${status}`)

    expect(await health()).toMatchObject({ code: 200, body: { status: 'ok', ready: 1 } })
    const head = await get(s.metricsPort!, '/healthz', { host: '127.0.0.2', method: 'HEAD' })
    expect(head.status).toBe(200)

    expect((await ctl('stop-workers')).code).toBe(0)
    const none = (await waitStatus('no-workers')).value!
    expect(none.code).toBe(503)
    expect(none.body.reason).toMatch(/no worker/)

    writeFileSync(join(dir, 'boot-ms'), '2000')
    expect((await ctl('scale', '1')).code).toBe(0)
    const booting = (await waitStatus('booting')).value
    expect(booting).toMatchObject({ code: 503, body: { status: 'booting', ready: 0 } })
    await waitStatus('ok')

    writeFileSync(join(dir, 'boot-ms'), '0')
    writeFileSync(join(dir, 'crash'), '')
    const [pid] = (JSON.parse((await ctl('workers', '--json')).stdout) as { pid: number; state: string }[]).filter((w) => w.state === 'ready').map((w) => w.pid)
    expect((await ctl('kill', String(pid))).code).toBe(0)
    const errored = (await waitStatus('errored', 30_000)).value!
    expect(errored.code).toBe(503)
    expect(errored.body.reason).toMatch(/keep failing/)

    rmSync(join(dir, 'crash'))
    expect((await ctl('reload')).code).toBe(0)
    await waitStatus('ok')

    // a graceful stop waits for the request in flight: healthz says stopping meanwhile
    const slow = get(s.port, '/?ms=3000', { host: '127.0.0.2' }).catch(() => null)
    await sleep(300)
    process.kill(s.paddock.pid, 'SIGTERM')
    const stopping = (await waitStatus('stopping', 5000)).value
    expect(stopping).toMatchObject({ code: 503, body: { status: 'stopping' } })
    expect((await slow)?.status).toBe(200)
  })
})
