import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { encodeFrame, FrameDecoder } from '../../../src/server/control/framing.js'
import { startUnixSocket, type UnixControlSocket } from '../../../src/server/control/unix-socket.js'
import { fakeArbiter } from './fake-arbiter.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function setup(): Promise<{ control: ControlServer; sock: UnixControlSocket; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-ctl-test-'))
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  const control = new ControlServer(fakeArbiter(), { rateHz: 20, sampleMs: 200 })
  cleanup.push(() => control.close())
  const sock = await startUnixSocket(control, { path: path.join(dir, 'sub', 'x.sock'), maxFrameBytes: 1024 })
  cleanup.push(() => sock.close())
  return { control, sock, dir }
}

/** A client that collects decoded frames and can wait for one matching a predicate. */
function client(p: string) {
  const s = net.connect(p)
  cleanup.push(() => s.destroy())
  const dec = new FrameDecoder()
  const frames: any[] = []
  let closed = false
  const waiters: (() => void)[] = []
  s.on('data', (c) => {
    frames.push(...dec.push(c))
    waiters.forEach((w) => w())
  })
  s.on('close', () => {
    closed = true
    waiters.forEach((w) => w())
  })
  const next = (pred: (f: any) => boolean) =>
    new Promise<any>((resolve, reject) => {
      const check = () => {
        const f = frames.find(pred)
        if (f) return resolve(f)
        if (closed) reject(new Error('closed'))
      }
      waiters.push(check)
      check()
    })
  const closedP = new Promise<void>((r) => s.on('close', () => r()))
  return { s, frames, next, closed: closedP, send: (f: unknown) => s.write(encodeFrame(f)) }
}

describe('framing', () => {
  it('decodes frames split across chunks and several per chunk', () => {
    const a = encodeFrame({ a: 1 })
    const b = encodeFrame({ b: 'é' })
    const all = Buffer.concat([a, b])
    const d = new FrameDecoder()
    expect(d.push(all.subarray(0, 3))).toEqual([])
    expect(d.push(all.subarray(3, a.length + 2))).toEqual([{ a: 1 }])
    expect(d.push(all.subarray(a.length + 2))).toEqual([{ b: 'é' }])
  })
  it('refuses an oversized length before the body arrives', () => {
    const head = Buffer.alloc(4)
    head.writeUInt32BE(10_000_000)
    expect(() => new FrameDecoder(1024).push(head)).toThrow(/exceeds/)
  })
})

describe('unix control socket', () => {
  it('is 0600 in a 0700 directory', async () => {
    const { sock } = await setup()
    expect(fs.statSync(sock.path).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(sock.path)).mode & 0o777).toBe(0o700)
  })

  it('welcomes, streams snapshots with samples, and answers commands', async () => {
    const { sock } = await setup()
    const c = client(sock.path)
    c.send({ type: 'hello', protocol: 1, client: 'test' })
    const w = await c.next((f) => f.type === 'welcome')
    expect(w.snapshot.workers[0].pid).toBe(process.pid)
    expect(w.settings[0].name).toBe('workers')
    c.send({ type: 'command', id: 1, command: { cmd: 'workers.add', count: 2 } })
    expect((await c.next((f) => f.type === 'result' && f.id === 1)).result).toMatchObject({ ok: true, data: { target: 4 } })
    c.send({ type: 'command', id: 2, command: { cmd: 'workers.kill', pid: 1 } })
    expect((await c.next((f) => f.id === 2)).result.error.code).toBe('PADDOCK_ERR_NO_SUCH_WORKER')
    c.send({ type: 'command', id: 3, command: { cmd: 'nope' } })
    expect((await c.next((f) => f.id === 3)).result.error.code).toBe('PADDOCK_ERR_BAD_COMMAND')
    c.send({ type: 'command', id: 4, command: { cmd: 'workers.scale', count: -1 } })
    expect((await c.next((f) => f.id === 4)).result.error.code).toBe('PADDOCK_ERR_BAD_COMMAND')
    c.send({ type: 'command', id: 5, command: { cmd: 'config.get', name: 'nope' } })
    expect((await c.next((f) => f.id === 5)).result.error.code).toBe('PADDOCK_ERR_UNKNOWN_SETTING')
    // the sampler fills rss from /proc within a few hundred ms
    const s = await c.next((f) => f.type === 'snapshot' && f.snapshot.workers[0].rss > 0)
    expect(s.snapshot.system.cores).toBeGreaterThan(0)
  })

  it('refuses another protocol version naming both versions', async () => {
    const { sock } = await setup()
    const c = client(sock.path)
    c.send({ type: 'hello', protocol: 99, client: 'test' })
    const e = await c.next((f) => f.type === 'error')
    expect(e.error.code).toBe('PADDOCK_ERR_PROTOCOL')
    expect(e.error.message).toMatch(/99/)
    expect(e.error.message).toMatch(/protocol 1/)
    await c.closed
  })

  it('closes a client sending an oversized or malformed frame; the server keeps serving', async () => {
    const { sock } = await setup()
    const big = client(sock.path)
    const head = Buffer.alloc(4)
    head.writeUInt32BE(1_000_000)
    big.s.write(head)
    expect((await big.next((f) => f.type === 'error')).error.code).toBe('PADDOCK_ERR_PROTOCOL')
    await big.closed
    const junk = client(sock.path)
    const body = Buffer.from('{not json')
    const h2 = Buffer.alloc(4)
    h2.writeUInt32BE(body.length)
    junk.s.write(Buffer.concat([h2, body]))
    expect((await junk.next((f) => f.type === 'error')).error.message).toMatch(/JSON/)
    await junk.closed
    const good = client(sock.path)
    good.send({ type: 'hello', protocol: 1, client: 'test' })
    await good.next((f) => f.type === 'welcome')
  })

  it('caps spans per second', async () => {
    const arb = fakeArbiter()
    const control = new ControlServer(arb, { rateHz: 1 })
    cleanup.push(() => control.close())
    const got: any[] = []
    const sess = control.subscribe({ send: (f) => got.push(f) })
    await sess.receive({ type: 'hello', protocol: 1, client: 't' })
    const span = { pid: 1, generation: 1, thread: 0, method: 'GET', path: '/', status: 200, start: 0, durationMs: 1 }
    for (let i = 0; i < 5; i++) arb.emit({ type: 'spans', at: Date.now(), spans: Array(100).fill(span), dropped: 0 })
    const spanFrames = got.filter((f) => f.type === 'event' && f.event.type === 'spans')
    const sent = spanFrames.reduce((a, f) => a + f.event.spans.length, 0)
    expect(sent).toBe(200)
  })
})
