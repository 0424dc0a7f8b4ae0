/**
 * The desktop's saved fleet: server addresses with their tokens, in a file under the user's
 * profile, each token encrypted by the OS keychain (Electron's safeStorage, handed in as a
 * Cipher so this module runs without Electron). Without a keychain (safeStorage unavailable,
 * as on a Linux session without a secret service) nothing is written: tokens then last only
 * while the app runs, and `persistent` says so.
 *
 * Also the channels main opens for the Fleet view: one relay session per channel, frames to
 * and from the window tagged with the channel id.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { FleetServerSpec } from '../shared/bridge.js'
import { isLocalAddress } from '../shared/fleet-address.js'
import type { ServerFrame } from '../shared/protocol.js'
import type { Subscribable } from './targets.js'

export interface Cipher {
  isEncryptionAvailable(): boolean
  encryptString(plain: string): Buffer
  decryptString(encrypted: Buffer): string
}

interface SavedEntry {
  address: string
  ca?: string
  /** base64 of the keychain-encrypted token */
  token: string
}

export class FleetStore {
  private readonly memory = new Map<string, FleetServerSpec>()

  constructor(
    private readonly file: string,
    private readonly cipher: Cipher,
  ) {}

  get persistent(): boolean {
    return this.cipher.isEncryptionAvailable()
  }

  /** Saved servers with their tokens decrypted; an entry that no longer decrypts is skipped. */
  list(): FleetServerSpec[] {
    const out = new Map(this.memory)
    if (this.persistent) {
      for (const e of this.read()) {
        try {
          out.set(e.address, { address: e.address, ca: e.ca, token: this.cipher.decryptString(Buffer.from(e.token, 'base64')) })
        } catch {
          // encrypted under another keychain or user: cannot be used, left for the user to re-add
        }
      }
    }
    return [...out.values()]
  }

  save(spec: unknown): void {
    const s = checkSpec(spec)
    if (!this.persistent) {
      this.memory.set(s.address, s)
      return
    }
    const entries = this.read().filter((e) => e.address !== s.address)
    entries.push({ address: s.address, ca: s.ca, token: this.cipher.encryptString(s.token).toString('base64') })
    this.write(entries)
  }

  forget(address: unknown): void {
    if (typeof address !== 'string') return
    this.memory.delete(address)
    if (this.persistent) this.write(this.read().filter((e) => e.address !== address))
  }

  private read(): SavedEntry[] {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { servers?: unknown }
      return Array.isArray(data.servers) ? (data.servers as SavedEntry[]).filter((e) => typeof e?.address === 'string' && typeof e?.token === 'string') : []
    } catch {
      return []
    }
  }

  private write(entries: SavedEntry[]): void {
    mkdirSync(path.dirname(this.file), { recursive: true })
    const tmp = `${this.file}.tmp`
    // owner-only, and renamed into place so a crash never leaves half a file
    writeFileSync(tmp, JSON.stringify({ servers: entries }, null, 2), { mode: 0o600 })
    renameSync(tmp, this.file)
  }
}

/** What a window may hand main as a server: checked, since it crosses a process boundary. */
export function checkSpec(spec: unknown): FleetServerSpec {
  const s = spec as Partial<FleetServerSpec> | null
  if (!s || typeof s.address !== 'string' || !s.address.trim()) throw new Error('a fleet server needs an address and a token (none for a unix: address)')
  // a local server's socket is guarded by its file modes: no token
  if (isLocalAddress(s.address)) return { address: s.address.trim(), token: '' }
  if (typeof s.token !== 'string' || !s.token) throw new Error('a fleet server needs an address and a token')
  if (s.ca !== undefined && typeof s.ca !== 'string') throw new Error('ca must be PEM text')
  return { address: s.address.trim(), token: s.token, ca: s.ca || undefined }
}

/** The engine's relays and address checks, as main loads them (loadEngine); handed in so this module stays Electron- and engine-free. */
export interface RelayParts {
  unixRelay(sockPath: string): Subscribable
  tcpRelay(target: ReturnType<RelayParts['parseRemote']>, creds: { token: string; ca?: string; cert?: Buffer; key?: Buffer }): Subscribable
  parseRemote(address: string, forceTls?: boolean): { host: string; port: number; tls: boolean; label: string }
  localSocketPath(address: string): string
}

/**
 * How main reaches a fleet server: a local one (unix:PATH, only a socket in paddock's socket
 * directory) through its control socket, as Attach does, with no token; any other through
 * its TCP control endpoint with the token added in the hello, and the app's client
 * certificate (PADDOCK_FLEET_CERTFILE / PADDOCK_FLEET_KEYFILE, read by main) for TLS endpoints.
 */
export function fleetRelay(engine: RelayParts, clientCert?: { cert: Buffer; key: Buffer }): (spec: FleetServerSpec) => Subscribable {
  return (spec) =>
    isLocalAddress(spec.address)
      ? engine.unixRelay(engine.localSocketPath(spec.address))
      : engine.tcpRelay(engine.parseRemote(spec.address, Boolean(spec.ca)), { token: spec.token, ca: spec.ca, ...clientCert })
}

/** The window's channels to fleet servers, each a relay session (tcpRelay from the engine). */
export class FleetChannels {
  private readonly open = new Map<string, ReturnType<Subscribable['subscribe']>>()

  constructor(
    private readonly relay: (spec: FleetServerSpec) => Subscribable,
    private readonly deliver: (channel: string, frame: ServerFrame) => void,
    private readonly closed: (channel: string, reason: string) => void,
  ) {}

  /** A channel id at once; connection failures arrive as an error frame and a close. */
  connect(spec: unknown): string {
    const s = checkSpec(spec)
    const id = randomUUID()
    const session = this.relay(s).subscribe({
      send: (frame) => {
        if (this.open.has(id)) this.deliver(id, frame)
      },
      close: (reason) => {
        if (this.open.delete(id)) this.closed(id, reason)
      },
    })
    this.open.set(id, session)
    return id
  }

  receive(channel: unknown, frame: unknown): void {
    if (typeof channel === 'string') void this.open.get(channel)?.receive(frame).catch(() => {})
  }

  close(channel: unknown): void {
    if (typeof channel !== 'string') return
    this.open.get(channel)?.close()
    this.open.delete(channel)
  }

  closeAll(): void {
    for (const id of [...this.open.keys()]) this.close(id)
  }
}
