/**
 * The desktop's fleet pieces without Electron: saved servers with keychain-encrypted tokens
 * (an AES-GCM cipher stands in for safeStorage, which needs Electron), and the channels main
 * relays through to real TCP control endpoints.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkSpec, FleetChannels, fleetRelay, FleetStore, type Cipher } from '../../src/main/fleet-store.js'
import { ControlServer } from '../../src/server/control/control-server.js'
import { startTcpEndpoint } from '../../src/server/control/tcp-endpoint.js'
import { tcpRelay, unixRelay } from '../../src/server/control/relay.js'
import { localServers, localSocketPath } from '../../src/server/control/live-sockets.js'
import { startUnixSocket } from '../../src/server/control/unix-socket.js'
import { parseRemote, readClientCert } from '../../src/server/control/remote.js'
import { makeTestCa } from '../helpers/tls.js'
import { fakeArbiter } from '../server/control/fake-arbiter.js'
import type { ServerFrame } from '../../src/shared/protocol.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-fleet-main-'))
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}

function aesCipher(available = true): Cipher {
  const key = crypto.randomBytes(32)
  return {
    isEncryptionAvailable: () => available,
    encryptString(plain) {
      const iv = crypto.randomBytes(12)
      const c = crypto.createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()])
      return Buffer.concat([iv, c.getAuthTag(), body])
    },
    decryptString(b) {
      const d = crypto.createDecipheriv('aes-256-gcm', key, b.subarray(0, 12))
      d.setAuthTag(b.subarray(12, 28))
      return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8')
    },
  }
}

describe('FleetStore', () => {
  it('keeps tokens encrypted on disk, owner-only, and gives them back', () => {
    const file = path.join(tmpdir(), 'profile', 'fleet.json')
    const cipher = aesCipher()
    const store = new FleetStore(file, cipher)
    const token = 'a-secret-token-0123456789'
    store.save({ address: '10.0.0.5:9400', token })
    store.save({ address: 'tls://app2:9400', token: 'other-token-abcdefghij', ca: '-----BEGIN CERTIFICATE-----' })
    const text = fs.readFileSync(file, 'utf8')
    expect(text).not.toContain(token)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(new FleetStore(file, cipher).list()).toEqual([
      { address: '10.0.0.5:9400', token, ca: undefined },
      { address: 'tls://app2:9400', token: 'other-token-abcdefghij', ca: '-----BEGIN CERTIFICATE-----' },
    ])
    store.forget('10.0.0.5:9400')
    expect(store.list().map((s) => s.address)).toEqual(['tls://app2:9400'])
    // another keychain cannot decrypt: the entry is skipped, not shown with garbage
    expect(new FleetStore(file, aesCipher()).list()).toEqual([])
  })

  it('writes nothing without a keychain: tokens last only while the app runs', () => {
    const file = path.join(tmpdir(), 'fleet.json')
    const store = new FleetStore(file, aesCipher(false))
    expect(store.persistent).toBe(false)
    store.save({ address: '127.0.0.2:9400', token: 'in-memory-token-123456' })
    expect(fs.existsSync(file)).toBe(false)
    expect(store.list()).toEqual([{ address: '127.0.0.2:9400', token: 'in-memory-token-123456', ca: undefined }])
    expect(() => store.save({ address: '', token: 'x' })).toThrow(/address and a token/)
  })
})

describe('FleetChannels', () => {
  it('relays a window channel to a real TCP control endpoint, adding the token there', async () => {
    const dir = tmpdir()
    const tokenFile = path.join(dir, 'token')
    fs.writeFileSync(tokenFile, 'channel-token-0123456789\n')
    const control = new ControlServer(fakeArbiter(), { rateHz: 10 })
    cleanup.push(() => control.close())
    const ep = await startTcpEndpoint(control, { bind: '127.0.0.2:0', tokenFile, log: { warning: () => {}, info: () => {} } })
    cleanup.push(() => ep.close())

    const frames: [string, ServerFrame][] = []
    const closes: [string, string][] = []
    const channels = new FleetChannels(
      (spec) => tcpRelay(parseRemote(spec.address), { token: spec.token }),
      (id, f) => frames.push([id, f]),
      (id, reason) => closes.push([id, reason]),
    )
    cleanup.push(() => channels.closeAll())
    const good = channels.connect({ address: ep.address, token: 'channel-token-0123456789' })
    // the window's hello carries no token: main adds it
    channels.receive(good, { type: 'hello', protocol: 1, client: 'test' })
    const bad = channels.connect({ address: ep.address, token: 'wrong-token-0123456789' })
    channels.receive(bad, { type: 'hello', protocol: 1, client: 'test' })
    const deadline = Date.now() + 5000
    while (Date.now() < deadline && !(frames.some(([id, f]) => id === good && f.type === 'welcome') && closes.some(([id]) => id === bad))) await new Promise((r) => setTimeout(r, 20))
    expect(frames.find(([id]) => id === good)?.[1].type).toBe('welcome')
    expect(frames.find(([id]) => id === bad)?.[1]).toMatchObject({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH' } })
    expect(closes.map(([id]) => id)).toEqual([bad])
    expect(() => channels.connect({ address: ep.address })).toThrow(/address and a token/)
  })
})

describe('FleetChannels to local servers', () => {
  it('reaches a server on this machine by its control socket, with no token, and nothing outside the socket directory', async () => {
    const runtime = tmpdir()
    const before = process.env.XDG_RUNTIME_DIR
    process.env.XDG_RUNTIME_DIR = runtime
    cleanup.push(() => (before === undefined ? delete process.env.XDG_RUNTIME_DIR : (process.env.XDG_RUNTIME_DIR = before)))
    const control = new ControlServer(fakeArbiter(7777), { rateHz: 10 })
    cleanup.push(() => control.close())
    const sock = await startUnixSocket(control, { name: 'local-a' })
    cleanup.push(() => sock.close())
    expect(sock.path).toBe(path.join(runtime, 'paddock', 'local-a.sock'))

    // what the Fleet view's "add local servers" gets from main
    const found = await localServers()
    expect(found.servers).toEqual([{ address: `unix:${sock.path}`, name: 'local-a.sock' }])
    expect(checkSpec({ address: found.servers[0]!.address })).toEqual({ address: `unix:${sock.path}`, token: '' })

    const frames: [string, ServerFrame][] = []
    const channels = new FleetChannels(fleetRelay({ unixRelay, tcpRelay, parseRemote, localSocketPath }), (id, f) => frames.push([id, f]), () => {})
    cleanup.push(() => channels.closeAll())
    const id = channels.connect({ address: found.servers[0]!.address, token: '' })
    channels.receive(id, { type: 'hello', protocol: 1, client: 'test' })
    const deadline = Date.now() + 5000
    while (Date.now() < deadline && !frames.some(([c, f]) => c === id && f.type === 'welcome')) await new Promise((r) => setTimeout(r, 20))
    const welcome = frames.find(([c]) => c === id)?.[1]
    expect(welcome?.type).toBe('welcome')
    expect(welcome?.type === 'welcome' && welcome.snapshot.listeners[0]!.port).toBe(7777)
    // a path outside paddock's socket directory is refused before any connection
    expect(() => channels.connect({ address: `unix:${path.join(runtime, 'other.sock')}`, token: '' })).toThrow(/is not a control socket in/)
  })
})

describe('fleetRelay with the app client certificate', () => {
  it('presents it to an endpoint that requires one (PADDOCK_FLEET_CERTFILE/KEYFILE, read by main)', async () => {
    const ca = makeTestCa(['127.0.0.2'])
    const dir = tmpdir()
    fs.writeFileSync(path.join(dir, 'token'), 'mtls-token-0123456789\n')
    const control = new ControlServer(fakeArbiter(6666), { rateHz: 10 })
    cleanup.push(() => control.close())
    const ep = await startTcpEndpoint(control, { bind: '127.0.0.2:0', tokenFile: path.join(dir, 'token'), certFile: ca.serverCert, keyFile: ca.serverKey, caFile: ca.ca, log: { warning: () => {}, info: () => {} } })
    cleanup.push(() => ep.close())
    const spec = { address: ep.address, token: 'mtls-token-0123456789', ca: fs.readFileSync(ca.ca, 'utf8') }
    const first = async (clientCert?: { cert: Buffer; key: Buffer }) => {
      const frames: ServerFrame[] = []
      const channels = new FleetChannels(fleetRelay({ unixRelay, tcpRelay, parseRemote, localSocketPath }, clientCert), (_id, f) => frames.push(f), () => {})
      cleanup.push(() => channels.closeAll())
      channels.receive(channels.connect(spec), { type: 'hello', protocol: 1, client: 'test' })
      const deadline = Date.now() + 5000
      while (Date.now() < deadline && frames.length === 0) await new Promise((r) => setTimeout(r, 20))
      return frames[0]
    }
    const ok = await first(readClientCert(ca.clientCert, ca.clientKey))
    expect(ok?.type === 'welcome' && ok.snapshot.listeners[0]!.port).toBe(6666)
    expect(await first()).toMatchObject({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH', message: expect.stringMatching(/PADDOCK_FLEET_CERTFILE/) } })
  })
})
