/**
 * `-k native`: apps that own their server (Fastify, ws, Socket.IO) under paddock's
 * supervision: requests, WebSockets, reload and removal of workers that hold WebSockets.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { io as ioClient } from 'socket.io-client'
import { FIXTURES, get, runCli, startPaddock, steadyLoad, stopAll, waitForWorkers, childPids, sleep } from '../../helpers/proc.js'

afterEach(stopAll)

interface Client {
  ws: WebSocket
  pid: number
  closed: Promise<number>
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
    ws.once('message', (m) => resolve({ ws, pid: Number(String(m).split(' ').at(-1)), closed }))
    ws.once('error', reject)
  })
}

describe('native worker class', () => {
  it('serves a real Fastify app with its own server; a route that throws answers 500 and the worker survives', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'native', join(FIXTURES, 'apps/native-fastify.mjs')])
    const [pid] = await waitForWorkers(p, 1)
    const user = await get(p.port, '/users/42')
    expect(JSON.parse(user.body)).toEqual({ id: 42, served: 'fastify', pid })
    const echo = await get(p.port, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
    expect(JSON.parse(echo.body)).toEqual({ got: { a: 1 } })
    expect((await get(p.port, '/boom')).status).toBe(500)
    expect((await get(p.port, '/users/7')).status).toBe(200)
    expect(await waitForWorkers(p, 1)).toEqual([pid])
  })

  it("counts requests and upgraded connections from the app server's own events", async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'paddock-native-')), 'ctl.sock')
    const p = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', '-k', 'native', '--control-socket', sock, join(FIXTURES, 'apps/native-ws.mjs')], { bind: false })
    await waitForWorkers(p, 1)
    for (let i = 0; i < 3; i++) await get(p.port, '/')
    const c = await connect(p.port)
    const reply = await new Promise<string>((r) => {
      c.ws.once('message', (m) => r(String(m)))
      c.ws.send('hi')
    })
    expect(reply).toBe(`echo ${c.pid}: hi`)
    let w: { requests: number; upgraded: number; workerClass: string; state: string } | undefined
    for (let i = 0; i < 30; i++) {
      const out = await runCli(['ctl', '--socket', sock, 'workers', '--json'])
      w = (JSON.parse(out.stdout) as NonNullable<typeof w>[]).find((x) => x.state === 'ready')
      if (w && w.requests >= 3 && w.upgraded === 1) break
      await sleep(150)
    }
    expect(w).toMatchObject({ workerClass: 'native', upgraded: 1 })
    expect(w!.requests).toBeGreaterThanOrEqual(3)
    c.ws.close()
  })

  it('HUP under WebSocket and HTTP load: sockets get a clean close (1001) and reconnect to a new worker, no HTTP request fails', async () => {
    const p = await startPaddock(['-w', '2', '-k', 'native', '--graceful-timeout', '1', join(FIXTURES, 'apps/native-ws.mjs')])
    const old = await waitForWorkers(p, 2)
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect(p.port)))
    const load = steadyLoad(p.port, '/', 4)
    await sleep(300)
    process.kill(p.pid, 'SIGHUP')
    const codes = await Promise.all(clients.map((c) => c.closed))
    expect(codes.every((c) => c === 1001)).toBe(true)
    // reconnecting lands on the new generation
    const again = await connect(p.port)
    expect(old).not.toContain(again.pid)
    again.ws.close()
    const r = await load.stop()
    expect(r.failed, r.errors.join('; ')).toBe(0)
    expect(r.ok).toBeGreaterThan(0)
  })

  it('TTOU drains a worker that holds WebSockets: they are closed cleanly and the other worker keeps serving', async () => {
    const p = await startPaddock(['-w', '2', '-k', 'native', '--graceful-timeout', '1', join(FIXTURES, 'apps/native-ws.mjs')])
    await waitForWorkers(p, 2)
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(p.port)))
    process.kill(p.pid, 'SIGTTOU')
    await waitForWorkers(p, 1)
    const [survivor] = childPids(p.pid)
    // the drained worker's sockets were closed with 1001; the survivor's stay open
    for (const c of clients) {
      if (c.pid === survivor) expect(c.ws.readyState).toBe(WebSocket.OPEN)
      else expect(await c.closed).toBe(1001)
    }
    expect(JSON.parse((await get(p.port, '/')).body).pid).toBe(survivor)
    for (const c of clients) c.ws.close()
  })

  it('serves a Socket.IO server attached to an http.Server', async () => {
    const p = await startPaddock(['-w', '1', '-k', 'native', join(FIXTURES, 'apps/native-socketio.mjs')])
    const [pid] = await waitForWorkers(p, 1)
    const socket = ioClient(`http://127.0.0.1:${p.port}`, { transports: ['websocket'], reconnection: false })
    const answer = await new Promise<string>((resolve, reject) => {
      socket.once('connect_error', reject)
      socket.once('connect', () => socket.emit('ping-me', 'hi', (a: string) => resolve(a)))
    })
    expect(answer).toBe(`pong ${pid}: hi`)
    socket.close()
  })

  it('refuses an export that gives no server, with a clear message', async () => {
    const r = await runCli(['-b', '127.0.0.1:0', '--no-control-socket', '-k', 'native', join(FIXTURES, 'apps/counting.mjs')])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/does not give an http\.Server/)
  })
})
