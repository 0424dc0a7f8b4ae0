/**
 * The Fleet view's local servers through the dashboard's /fleet relay: two real paddock
 * servers with their control sockets in a private $XDG_RUNTIME_DIR/paddock/, and the socket
 * a killed master left behind. The list names the two live ones only; each is relayed to by
 * its socket with no token; paths outside the socket directory are refused.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { startWebServer, type WebServer } from '../../../src/server/control/web-server.js'
import { DEMO, sleep, startPaddock, stopAll, waitForWorkers } from '../../helpers/proc.js'
import { fakeArbiter } from './fake-arbiter.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
  await stopAll()
})

/** A socket file with no listener, as a master killed with -9 leaves it. */
async function deadSocket(file: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(file)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`the listener exited (${code}) before listening`)))
  })
  const gone = new Promise((resolve) => child.once('exit', resolve))
  process.kill(child.pid!, 'SIGKILL')
  await gone
  expect(fs.statSync(file).isSocket()).toBe(true)
}

/** One /fleet WebSocket: sends `first` (and a hello after a fleet.open); resolves with the frames and the close code. */
function fleetWs(web: WebServer, first: unknown) {
  return new Promise<{ closeCode?: number; frames: any[] }>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/fleet`, { headers: { host: `127.0.0.1:${web.port}` }, origin: `http://127.0.0.1:${web.port}` })
    cleanup.push(() => ws.terminate())
    const frames: any[] = []
    ws.on('error', () => {})
    ws.on('open', () => {
      ws.send(JSON.stringify(first))
      if ((first as { type: string }).type === 'fleet.open') ws.send(JSON.stringify({ type: 'hello', protocol: 1, client: 'test' }))
    })
    ws.on('message', (d) => {
      frames.push(JSON.parse(String(d)))
      if (frames[0]?.type === 'welcome') resolve({ frames })
    })
    ws.on('close', (code) => resolve({ closeCode: code, frames }))
  })
}

describe('/fleet: servers on this machine', () => {
  it('lists the live local servers, leaves the dead one out, and relays to each by its socket without a token', async () => {
    const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-xdg-'))
    cleanup.push(() => fs.rmSync(runtime, { recursive: true, force: true }))
    const env = { XDG_RUNTIME_DIR: runtime }
    // default control sockets: $XDG_RUNTIME_DIR/paddock/<pid>.sock
    const a = await startPaddock(['-b', '127.0.0.1:0', '-w', '1', DEMO], { env, bind: false })
    const b = await startPaddock(['-b', '127.0.0.1:0', '-w', '2', DEMO], { env, bind: false })
    await waitForWorkers(a, 1)
    await waitForWorkers(b, 2)
    const dir = path.join(runtime, 'paddock')
    // each master opens its control socket once its control plane is up, after the workers on a loaded machine
    const sockOf = (p: { pid: number }) => path.join(dir, `${p.pid}.sock`)
    for (let t = Date.now(); ![a, b].every((p) => fs.existsSync(sockOf(p))); await sleep(100)) {
      if (Date.now() - t > 20_000) throw new Error(`no control sockets in ${dir} after 20 s`)
    }
    await deadSocket(path.join(dir, '999999.sock'))

    const control = new ControlServer(fakeArbiter(), { rateHz: 10 })
    cleanup.push(() => control.close())
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-web-'))
    cleanup.push(() => fs.rmSync(root, { recursive: true, force: true }))
    const web = await startWebServer(control, { root, fleet: { localDir: dir } })
    cleanup.push(() => web.close())

    const listed = await fleetWs(web, { type: 'fleet.local', token: web.token })
    expect(listed.frames).toHaveLength(1)
    expect(listed.frames[0]).toEqual({
      type: 'fleet.local',
      dir,
      servers: [a, b].map((p) => ({ address: `unix:${sockOf(p)}`, name: `${p.pid}.sock` })).sort((x, y) => x.name.localeCompare(y.name)),
    })
    expect(listed.closeCode).toBe(1000)

    for (const [p, workers] of [[a, 1], [b, 2]] as const) {
      const r = await fleetWs(web, { type: 'fleet.open', token: web.token, address: `unix:${sockOf(p)}` })
      expect(r.frames[0].type).toBe('welcome')
      expect(r.frames[0].snapshot.pid).toBe(p.pid)
      expect(r.frames[0].snapshot.targetWorkers).toBe(workers)
    }

    // the dead master's socket: an error frame, then 4502 so the page retries with back-off
    const dead = await fleetWs(web, { type: 'fleet.open', token: web.token, address: `unix:${path.join(dir, '999999.sock')}` })
    expect(dead.frames[0]).toMatchObject({ type: 'error', error: { message: expect.stringMatching(/ECONNREFUSED/) } })
    expect(dead.closeCode).toBe(4502)

    // only sockets in paddock's directory: not any Unix socket the user can open
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-other-'))
    cleanup.push(() => fs.rmSync(outside, { recursive: true, force: true }))
    for (const address of [`unix:${path.join(outside, 'x.sock')}`, `unix:${dir}/../paddock/../x.sock`, `unix:${path.join(dir, 'notes.txt')}`]) {
      const r = await fleetWs(web, { type: 'fleet.open', token: web.token, address })
      expect(r.closeCode, address).toBe(4400)
      expect(r.frames[0].error.message).toMatch(/is not a control socket in/)
    }
    // and the list, like the relay, wants the dashboard's token
    const noToken = await fleetWs(web, { type: 'fleet.local', token: 'nope' })
    expect(noToken.closeCode).toBe(4401)
    expect(noToken.frames[0].error.code).toBe('PADDOCK_ERR_AUTH')
  })
})
