import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { startWebServer, type WebServer } from '../../../src/server/control/web-server.js'
import { fakeArbiter } from './fake-arbiter.js'
import { startUnixSocket } from '../../../src/server/control/unix-socket.js'
import { unixRelay } from '../../../src/server/control/relay.js'
import { readClientCert } from '../../../src/server/control/remote.js'
import type { FleetRelayOptions } from '../../../src/server/control/fleet-socket.js'
import { makeTestCa } from '../../helpers/tls.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function setup(fleet?: FleetRelayOptions): Promise<WebServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-web-'))
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>x</title>')
  fs.writeFileSync(path.join(root, 'app.js'), 'console.log(1)')
  cleanup.push(() => fs.rmSync(root, { recursive: true, force: true }))
  const control = new ControlServer(fakeArbiter(), { rateHz: 10 })
  cleanup.push(() => control.close())
  const web = await startWebServer(control, { root, fleet })
  cleanup.push(() => web.close())
  return web
}

/** Opens a socket with given headers and first message; resolves with what happened. */
function tryWs(web: WebServer, opts: { host?: string; origin?: string | null; hello?: unknown }) {
  return new Promise<{ refused?: number; closeCode?: number; reason?: string; frames: any[] }>((resolve) => {
    const headers: Record<string, string> = { host: opts.host ?? `127.0.0.1:${web.port}` }
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/ws`, {
      headers,
      ...(opts.origin === null ? {} : { origin: opts.origin ?? `http://127.0.0.1:${web.port}` }),
    })
    cleanup.push(() => ws.terminate())
    const frames: any[] = []
    ws.on('unexpected-response', (_req, res) => resolve({ refused: res.statusCode, frames }))
    ws.on('error', () => {})
    ws.on('open', () => ws.send(JSON.stringify(opts.hello)))
    ws.on('message', (d) => {
      frames.push(JSON.parse(String(d)))
      if (frames[0]?.type === 'welcome') resolve({ frames })
    })
    ws.on('close', (code, reason) => resolve({ closeCode: code, reason: String(reason), frames }))
  })
}

function get(web: WebServer, p: string, host?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: web.port, path: p, headers: { host: host ?? `127.0.0.1:${web.port}` } }, (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      })
      .on('error', reject)
  })
}

describe('dashboard web server', () => {
  it('prints a loopback URL with a random token', async () => {
    const web = await setup()
    expect(web.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${web.port}/#token=[A-Za-z0-9_-]{20,}$`))
  })

  it('accepts the right Host, Origin and token', async () => {
    const web = await setup()
    const r = await tryWs(web, { hello: { type: 'hello', protocol: 1, client: 't', token: web.token } })
    expect(r.frames[0].type).toBe('welcome')
    const r2 = await tryWs(web, { host: `localhost:${web.port}`, origin: `http://localhost:${web.port}`, hello: { type: 'hello', protocol: 1, client: 't', token: web.token } })
    expect(r2.frames[0].type).toBe('welcome')
  })

  it('refuses a wrong Host, a foreign or missing Origin, a missing or wrong token', async () => {
    const web = await setup()
    const hello = { type: 'hello', protocol: 1, client: 't', token: web.token }
    expect((await tryWs(web, { host: `evil.example:${web.port}`, hello })).refused).toBe(403)
    expect((await tryWs(web, { origin: 'http://evil.example', hello })).refused).toBe(403)
    expect((await tryWs(web, { origin: null, hello })).refused).toBe(403)
    const noToken = await tryWs(web, { hello: { type: 'hello', protocol: 1, client: 't' } })
    expect(noToken.closeCode).toBe(4401)
    expect(noToken.reason).toMatch(/token/)
    expect(noToken.frames[0].error.code).toBe('PADDOCK_ERR_AUTH')
    const wrong = await tryWs(web, { hello: { ...hello, token: 'x'.repeat(web.token.length) } })
    expect(wrong.closeCode).toBe(4401)
    const cmdFirst = await tryWs(web, { hello: { type: 'command', id: 1, command: { cmd: 'workers.add' } } })
    expect(cmdFirst.closeCode).toBe(4401)
  })

  it('serves static files with types and CSP, and no traversal', async () => {
    const web = await setup()
    const idx = await get(web, '/')
    expect(idx.status).toBe(200)
    expect(idx.headers['content-type']).toMatch(/text\/html/)
    expect(idx.headers['content-security-policy']).toMatch(/default-src 'self'/)
    expect((await get(web, '/app.js')).headers['content-type']).toMatch(/javascript/)
    expect((await get(web, '/../../../../etc/passwd')).status).toBe(404)
    expect((await get(web, '/%2e%2e/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404)
    expect((await get(web, '/', 'evil.example')).status).toBe(403)
  })
})

describe('dashboard --attach relay', () => {
  it('relays an authenticated browser session to the control socket', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-relay-'))
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    const control = new ControlServer(fakeArbiter(), { rateHz: 10 })
    cleanup.push(() => control.close())
    const sock = await startUnixSocket(control, { path: path.join(dir, 'a.sock') })
    cleanup.push(() => sock.close())
    const web = await startWebServer(unixRelay(sock.path), { root: dir })
    cleanup.push(() => web.close())
    const r = await tryWs(web, { hello: { type: 'hello', protocol: 1, client: 't', token: web.token } })
    expect(r.frames[0].type).toBe('welcome')
    expect(r.frames[0].snapshot.workers[0].pid).toBe(process.pid)
    const bad = await tryWs(web, { hello: { type: 'hello', protocol: 1, client: 't', token: 'nope' } })
    expect(bad.closeCode).toBe(4401)
  })
})

describe('/fleet relay to remote TCP control endpoints', () => {
  async function remote() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-fleet-ws-'))
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    fs.writeFileSync(path.join(dir, 'token'), 'remote-token-0123456789\n')
    const control = new ControlServer(fakeArbiter(9999), { rateHz: 10 })
    cleanup.push(() => control.close())
    const { startTcpEndpoint } = await import('../../../src/server/control/tcp-endpoint.js')
    const warnings: string[] = []
    const ep = await startTcpEndpoint(control, { bind: '127.0.0.2:0', tokenFile: path.join(dir, 'token'), log: { warning: (m) => warnings.push(m), info: () => {} } })
    cleanup.push(() => ep.close())
    return { ep, warnings }
  }

  function fleetWs(web: WebServer, open: unknown, origin = `http://127.0.0.1:${web.port}`) {
    return new Promise<{ refused?: number; closeCode?: number; frames: any[] }>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${web.port}/fleet`, { headers: { host: `127.0.0.1:${web.port}` }, origin })
      cleanup.push(() => ws.terminate())
      const frames: any[] = []
      ws.on('unexpected-response', (_req, res) => resolve({ refused: res.statusCode, frames }))
      ws.on('error', () => {})
      ws.on('open', () => {
        ws.send(JSON.stringify(open))
        ws.send(JSON.stringify({ type: 'hello', protocol: 1, client: 'test' }))
      })
      ws.on('message', (d) => {
        frames.push(JSON.parse(String(d)))
        if (frames[0]?.type === 'welcome') resolve({ frames })
      })
      ws.on('close', (code) => resolve({ closeCode: code, frames }))
    })
  }

  it('relays to a remote endpoint with its token given in the first message, never in the URL', async () => {
    const web = await setup()
    const { ep } = await remote()
    const r = await fleetWs(web, { type: 'fleet.open', token: web.token, address: ep.address, remoteToken: 'remote-token-0123456789' })
    expect(r.frames[0].type).toBe('welcome')
    // the remote's snapshot, not this dashboard's
    expect(r.frames[0].snapshot.listeners[0].port).toBe(9999)
  })

  it('refuses a wrong dashboard token, a foreign Origin, and passes the remote refusal on', async () => {
    const web = await setup()
    const { ep, warnings } = await remote()
    const noDash = await fleetWs(web, { type: 'fleet.open', token: 'nope', address: ep.address, remoteToken: 'remote-token-0123456789' })
    expect(noDash.closeCode).toBe(4401)
    expect(noDash.frames[0].error.code).toBe('PADDOCK_ERR_AUTH')
    const foreign = await fleetWs(web, { type: 'fleet.open', token: web.token, address: ep.address, remoteToken: 'x' }, 'http://evil.example')
    expect(foreign.refused).toBe(403)
    const wrongRemote = await fleetWs(web, { type: 'fleet.open', token: web.token, address: ep.address, remoteToken: 'wrong-remote-token-000' })
    expect(wrongRemote.frames[0]).toMatchObject({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH' } })
    expect(wrongRemote.closeCode).toBe(4502)
    expect(warnings.join('\n')).toMatch(/refused 127\.0\.0\.1: wrong token/)
    expect(warnings.join('\n')).not.toContain('wrong-remote-token-000')
  })

  it("presents the dashboard's client certificate to an endpoint that requires one (--fleet-certfile/--fleet-keyfile)", async () => {
    const ca = makeTestCa(['127.0.0.2'])
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-fleet-mtls-'))
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    fs.writeFileSync(path.join(dir, 'token'), 'remote-token-0123456789\n')
    const control = new ControlServer(fakeArbiter(9998), { rateHz: 10 })
    cleanup.push(() => control.close())
    const { startTcpEndpoint } = await import('../../../src/server/control/tcp-endpoint.js')
    const ep = await startTcpEndpoint(control, {
      bind: '127.0.0.2:0', tokenFile: path.join(dir, 'token'), certFile: ca.serverCert, keyFile: ca.serverKey, caFile: ca.ca,
      log: { warning: () => {}, info: () => {} },
    })
    cleanup.push(() => ep.close())
    const open = { type: 'fleet.open', address: ep.address, remoteToken: 'remote-token-0123456789', ca: fs.readFileSync(ca.ca, 'utf8') }

    const withCert = await setup({ clientCert: readClientCert(ca.clientCert, ca.clientKey) })
    const ok = await fleetWs(withCert, { ...open, token: withCert.token })
    expect(ok.frames[0].type).toBe('welcome')
    expect(ok.frames[0].snapshot.listeners[0].port).toBe(9998)

    // without one: a refusal the page does not retry, saying how to give the dashboard one
    const without = await setup()
    const refused = await fleetWs(without, { ...open, token: without.token })
    expect(refused.frames[0]).toMatchObject({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH', message: expect.stringMatching(/requires a client certificate.*--fleet-certfile/) } })
  })
})
