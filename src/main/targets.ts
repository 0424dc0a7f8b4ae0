/**
 * The arbiters one window can show, and which one it shows now: the hosted one (in-process
 * ControlServer) or ones attached over their control socket (unixRelay). Frames from the
 * current target go to `deliver`; frames from the window go to the current target only.
 * No Electron here, so it is tested under Node.
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { TargetInfo } from '../shared/bridge.js'
import type { ServerFrame } from '../shared/protocol.js'

/** The shape both ControlServer and unixRelay offer. */
export interface Subscribable {
  subscribe(client: { send(frame: ServerFrame): void; close?(reason: string): void }): { receive(frame: unknown): Promise<void>; close(): void }
}

interface Entry {
  info: TargetInfo
  source: Subscribable
}

export class TargetRegistry {
  private readonly entries = new Map<string, Entry>()
  private currentId: string | null = null
  private session: ReturnType<Subscribable['subscribe']> | null = null

  constructor(
    /** where frames of the current target go (the window) */
    private readonly deliver: (frame: ServerFrame) => void,
    /** told when the current target changes (the window says hello again) */
    private readonly changed: (info: TargetInfo) => void,
    private readonly relay: (socketPath: string) => Subscribable,
  ) {}

  add(info: Omit<TargetInfo, 'id'>, source: Subscribable): TargetInfo {
    const full = { ...info, id: randomUUID() }
    this.entries.set(full.id, { info: full, source })
    return full
  }

  list(): TargetInfo[] {
    return [...this.entries.values()].map((e) => e.info)
  }

  current(): TargetInfo | null {
    return this.currentId ? (this.entries.get(this.currentId)?.info ?? null) : null
  }

  /** Attach to an arbiter's control socket; it becomes the current target. */
  attach(socketPath: unknown): TargetInfo {
    if (typeof socketPath !== 'string' || !socketPath.trim()) throw new Error('give the path of an arbiter control socket')
    const p = socketPath.trim()
    if (!existsSync(p)) throw new Error(`no control socket at ${p} (paddock prints its path at start; see --control-socket)`)
    const known = this.list().find((t) => t.socketPath === p)
    const info = known ?? this.add({ label: p, kind: 'attached', socketPath: p }, this.relay(p))
    return this.select(info.id)
  }

  select(id: unknown): TargetInfo {
    const entry = typeof id === 'string' ? this.entries.get(id) : undefined
    if (!entry) throw new Error(`no such target: ${String(id)}`)
    this.session?.close()
    this.currentId = entry.info.id
    const mine = entry.source.subscribe({
      send: (frame) => {
        // a frame from a session that is no longer current is dropped
        if (this.session === mine) this.deliver(frame)
      },
      close: (reason) => {
        if (this.session === mine) this.deliver({ type: 'error', error: { code: 'PADDOCK_ERR_INTERNAL', message: `target closed: ${reason}` } })
      },
    })
    this.session = mine
    this.changed(entry.info)
    return entry.info
  }

  /** A frame from the window: only to the current target. */
  receive(frame: unknown): void {
    void this.session?.receive(frame).catch(() => {})
  }

  close(): void {
    this.session?.close()
    this.session = null
  }
}

/** Closing the window: quit at once when idle, ask when requests are in flight. */
export function closeDecision(inFlight: number): 'stop' | 'ask' {
  return inFlight > 0 ? 'ask' : 'stop'
}
