/**
 * The `req` messages a worker sends so that the timeout log can name a request that blocks
 * its loop: the first request after each heartbeat and any request after a quiet moment,
 * a few a second under load, not one every 10 ms. The worker is forked here as the arbiter
 * forks it (boot info in PADDOCK_WORKER, the listening socket at fd 4), so every message it
 * sends is seen.
 */
import { fork, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO, ROOT, sleep } from '../../helpers/proc.js'

let worker: ChildProcess | null = null
afterEach(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    const gone = new Promise((r) => worker!.once('exit', r))
    worker.kill('SIGKILL')
    await gone
  }
  worker = null
})

function get(port: number, agent: http.Agent, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      .on('error', reject)
  })
}

/** A worker of `cls` serving DEMO on a fresh loopback port, and every message it sends. */
async function startWorker(cls: string): Promise<{ port: number; messages: { at: number; m: { t: string } }[] }> {
  const listener = net.createServer()
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r))
  const { port } = listener.address() as AddressInfo
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd
  const info = {
    id: 1,
    slot: 0,
    generation: 1,
    workerClass: cls,
    listeners: [{ fd: 4, kind: 'tcp', bind: `127.0.0.1:${port}` }],
    configFile: null,
    settings: { app: DEMO, timeout: 30 },
    heartbeatMs: 250,
    masterPid: process.pid,
    identity: null,
  }
  worker = fork(join(ROOT, 'dist/server/worker/main.js'), [], { env: { ...process.env, PADDOCK_WORKER: JSON.stringify(info) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc', fd] })
  // the worker holds its own copy; this process must not accept on it
  listener.close()
  const messages: { at: number; m: { t: string } }[] = []
  worker.on('message', (m: { t: string }) => messages.push({ at: Date.now(), m }))
  for (const deadline = Date.now() + 20_000; !messages.some((x) => x.m.t === 'ready'); ) {
    if (Date.now() > deadline || worker.exitCode !== null) throw new Error('the worker did not start')
    await sleep(20)
  }
  return { port, messages }
}

describe('request announcements', () => {
  it('under a steady stream of requests a worker names a few a second, and a request after a quiet moment at once', async () => {
    const { port, messages } = await startWorker('async')
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    try {
      // 1.5 s of back-to-back requests on 4 connections: hundreds of them, none 10 ms apart
      const from = Date.now()
      const until = from + 1500
      let served = 0
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            expect(await get(port, agent, '/')).toBe(200)
            served++
          }
        }),
      )
      const during = messages.filter((x) => x.at >= from && x.at <= until + 50 && x.m.t === 'req')
      expect(served).toBeGreaterThan(150)
      // the first request after each 250 ms heartbeat: about 6 in 1.5 s (wide: a loaded
      // machine stretches a beat); announcing every 10 ms since the last message sent 50+
      expect(during.length).toBeGreaterThan(0)
      expect(during.length).toBeLessThan(25)

      // a request after a quiet moment is named when it starts
      await sleep(300)
      const before = messages.length
      expect(await get(port, agent, '/io?ms=300')).toBe(200)
      const named = messages.slice(before).filter((x) => x.m.t === 'req') as unknown as { m: { request: { url: string } } }[]
      expect(named.map((x) => x.m.request.url)).toContain('/io?ms=300')
    } finally {
      agent.destroy()
    }
  })
})
