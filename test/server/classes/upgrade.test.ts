/**
 * WebSockets: a module's `upgrade(req, socket, head)` export gets the upgrades in async and
 * gthread workers (counted as upgraded connections); sync refuses them unless allowed.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { WebSocket } from 'ws'
import { FIXTURES, DEMO, runCli, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'

afterEach(stopAll)
const APP = join(FIXTURES, 'apps/ws-app.mjs')

function open(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (d) => resolve(String(d)))
    ws.send(text)
  })
}

async function upgraded(sock: string): Promise<number> {
  const r = await runCli(['ctl', '--socket', sock, 'workers', '--json'])
  return (JSON.parse(r.stdout) as { upgraded: number; state: string }[]).filter((w) => w.state !== 'exited').reduce((a, w) => a + w.upgraded, 0)
}

async function until(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** raw upgrade request; the status line of the answer */
function rawUpgrade(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () =>
      s.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
    )
    let got = ''
    s.on('data', (d) => {
      got += d
      if (got.includes('\r\n\r\n')) {
        s.destroy()
        resolve(got)
      }
    })
    s.on('error', () => resolve(got))
  })
}

describe('WebSocket upgrades', () => {
  for (const cls of ['async', 'gthread']) {
    it(`${cls}: the app's upgrade export echoes, and the worker counts the upgraded connection`, async () => {
      const sock = join(mkdtempSync(join(tmpdir(), 'paddock-ws-')), 'ctl.sock')
      const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '-k', cls, '--control-socket', sock, APP], { bind: false })
      await waitForWorkers(p, 1)
      const ws = await open(p.port)
      expect(await echo(ws, 'hello')).toBe('echo: hello')
      await until(async () => (await upgraded(sock)) === 1)
      ws.close()
      await until(async () => (await upgraded(sock)) === 0)
    })
  }

  it('sync refuses an upgrade with a 400 that says why, unless --allow-sync-upgrades', async () => {
    const p = await startPaddock(['-w', '1', APP])
    await waitForWorkers(p, 1)
    const answer = await rawUpgrade(p.port)
    expect(answer).toMatch(/^HTTP\/1\.1 400/)
    expect(answer).toContain('Connection: close')
    const allowed = await startPaddock(['-w', '1', '--allow-sync-upgrades', APP])
    await waitForWorkers(allowed, 1)
    const ws = await open(allowed.port)
    expect(await echo(ws, 'ok?')).toBe('echo: ok?')
    ws.close()
  })

  it('an app without an upgrade export answers 400 in every class', async () => {
    for (const cls of ['sync', 'async']) {
      const p = await startPaddock(['-w', '1', '-k', cls, join(FIXTURES, 'apps/counting.mjs')])
      await waitForWorkers(p, 1)
      expect(await rawUpgrade(p.port)).toMatch(/^HTTP\/1\.1 400/)
    }
  })
})

describe('the demo app: /ws and /sse', () => {
  it('/ws echoes and ticks under async', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'async', DEMO])
    await waitForWorkers(p, 1)
    const ws = await open(p.port)
    expect(await echo(ws, 'hi')).toBe('echo: hi')
    const tick = await new Promise<string>((r) => ws.once('message', (d) => r(String(d))))
    expect(JSON.parse(tick)).toMatchObject({ tick: expect.any(Number) })
    ws.close()
  })

  for (const cls of ['sync', 'gthread', 'async']) {
    it(`/sse streams its events under ${cls}, each arriving on its own`, async () => {
      const p = await startPaddock(['-w', '1', '-k', cls, DEMO])
      await waitForWorkers(p, 1)
      const events = await new Promise<string[]>((resolve, reject) => {
        const got: string[] = []
        const s = net.connect(p.port, '127.0.0.1', () => s.write('GET /sse?n=3&ms=100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
        s.on('data', (d) => got.push(String(d)))
        s.on('end', () => resolve(got))
        s.on('error', reject)
      })
      const text = events.join('')
      expect(text).toMatch(/^HTTP\/1\.1 200/)
      expect(text).toContain('text/event-stream')
      expect(text.match(/event: tick/g)).toHaveLength(3)
      // streamed, not buffered: the events came in separate reads
      expect(events.length).toBeGreaterThanOrEqual(3)
    })
  }
})
