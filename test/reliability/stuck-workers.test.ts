import { afterEach, describe, expect, it } from 'vitest'
import net from 'node:net'
import { DEMO, alive, busyWorker, controlSocketPath, get, sleep, startPaddock, stopAll, waitForWorkers } from '../helpers/proc.js'

afterEach(stopAll)

describe('stuck workers and slow clients', () => {
  it('a SIGSTOPped worker is killed after --timeout, replaced, and the log names its request', async () => {
    const sock = controlSocketPath()
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', '-t', '2', '-k', 'async', '--control-socket', sock, DEMO], { bind: false })
    await waitForWorkers(p, 2)
    // Keep requests running, then freeze a worker that holds some.
    const pending = Array.from({ length: 6 }, () => get(p.port, '/io?ms=6000').catch((e: Error) => e))
    const victim = await busyWorker(sock)
    process.kill(victim, 'SIGSTOP')
    const line = await p.waitFor(new RegExp(`WORKER TIMEOUT \\(pid:${victim}\\) silent for [\\d.]+ s while running GET /io\\?ms=6000`), 15_000)
    expect(line).toBeTruthy()
    const deadline = Date.now() + 5000
    while (alive(victim) && Date.now() < deadline) await sleep(100)
    expect(alive(victim)).toBe(false)
    const now = await waitForWorkers(p, 2)
    expect(now).not.toContain(victim)
    expect((await get(p.port, '/')).status).toBe(200)
    await Promise.all(pending)
  })

  it('slowloris clients are cut off by the header timeout while others are served', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'async', '--header-timeout', '2', DEMO])
    await waitForWorkers(p, 1)
    // 20 clients that send a request head one byte at a time, never finishing it.
    const attackers = Array.from({ length: 20 }, () => {
      const s = net.connect(p.port, '127.0.0.1')
      s.on('error', () => {})
      let answer = ''
      // Read what the server says (a paused socket would never see its FIN).
      s.on('data', (d) => (answer += d))
      let closedAt = 0
      s.on('close', () => (closedAt = Date.now()))
      s.write('GET / HTTP/1.1\r\nHost: x\r\n')
      const drip = setInterval(() => s.writable && s.write('X'), 300)
      return { s, drip, closed: () => closedAt, answer: () => answer }
    })
    const t0 = Date.now()
    try {
      // Meanwhile, normal clients are answered.
      for (let i = 0; i < 5; i++) {
        const r = await get(p.port, '/')
        expect(r.status).toBe(200)
        await sleep(200)
      }
      // Node checks header timeouts about once a second: allow a wide margin.
      const deadline = Date.now() + 8000
      while (attackers.some((a) => !a.closed()) && Date.now() < deadline) await sleep(100)
      const closed = attackers.filter((a) => a.closed())
      expect(closed).toHaveLength(20)
      for (const a of closed) {
        expect(a.closed() - t0).toBeGreaterThanOrEqual(1500)
        expect(a.answer()).toMatch(/^HTTP\/1\.1 408 /)
      }
    } finally {
      for (const a of attackers) {
        clearInterval(a.drip)
        a.s.destroy()
      }
    }
  })
})
