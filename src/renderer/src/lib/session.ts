/**
 * ControlSession: the protocol on top of a transport. It says hello on every (re)open,
 * turns commands into promises of typed results, and hands snapshots and events on.
 * A command that gets no answer in time resolves to an error result: nothing fails silently.
 */
import {
  PROTOCOL_VERSION,
  type ArbiterSnapshot,
  type CommandResult,
  type ControlCommand,
  type ControlError,
  type ControlEvent,
  type ServerFrame,
  type SettingInfo,
} from '@shared/protocol'
import type { ReplayedHistory } from '@shared/history'
import type { ControlTransport } from '../transport/types'

export interface SessionHandlers {
  onWelcome(snapshot: ArbiterSnapshot, settings: SettingInfo[], history?: ReplayedHistory): void
  onSnapshot(snapshot: ArbiterSnapshot): void
  onEvent(event: ControlEvent): void
  onError(error: ControlError): void
  onStatus(status: 'connecting' | 'open' | 'closed', reason?: string): void
}

/** Long commands (reload, class change, experiments) report through events meanwhile. */
const TIMEOUT_MS: Partial<Record<ControlCommand['cmd'], number>> = {
  reload: 120_000,
  'class.set': 120_000,
  'app.set': 120_000,
  start: 60_000,
  'experiment.run': 30 * 60_000,
}

/**
 * A command without an answer is not failed early: "scale to 500" said "no answer within
 * 15 s" while it was under way. The actions store says it is still waiting instead; a lost
 * connection fails every pending command at once (failPending).
 */
const DEFAULT_TIMEOUT_MS = 10 * 60_000

export class ControlSession {
  private nextId = 1
  private readonly pending = new Map<number, { resolve(r: CommandResult): void; timer: ReturnType<typeof setTimeout> }>()

  constructor(
    readonly transport: ControlTransport,
    private readonly h: SessionHandlers,
  ) {}

  open(): void {
    this.h.onStatus('connecting')
    this.transport.open({
      onOpen: () => {
        try {
          this.transport.send({ type: 'hello', protocol: PROTOCOL_VERSION, client: `paddock-dashboard/${this.transport.kind}`, token: this.transport.token })
        } catch (err) {
          this.h.onStatus('closed', String(err))
        }
      },
      onFrame: (f) => this.frame(f),
      onClose: (reason) => {
        this.failPending(`connection lost: ${reason}`)
        this.h.onStatus('closed', reason)
      },
    })
  }

  close(): void {
    this.failPending('dashboard closed')
    this.transport.close()
  }

  command(command: ControlCommand): Promise<CommandResult> {
    const id = this.nextId++
    return new Promise<CommandResult>((resolve) => {
      const ms = TIMEOUT_MS[command.cmd] ?? DEFAULT_TIMEOUT_MS
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve({ ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: `no answer from the server within ${ms / 1000} s` } })
      }, ms)
      this.pending.set(id, { resolve, timer })
      try {
        this.transport.send({ type: 'command', id, command })
      } catch (err) {
        clearTimeout(timer)
        this.pending.delete(id)
        resolve({ ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) } })
      }
    })
  }

  private frame(f: ServerFrame): void {
    switch (f.type) {
      case 'welcome':
        this.h.onStatus('open')
        this.h.onWelcome(f.snapshot, f.settings, f.history)
        return
      case 'snapshot':
        return this.h.onSnapshot(f.snapshot)
      case 'event':
        return this.h.onEvent(f.event)
      case 'result': {
        const p = this.pending.get(f.id)
        if (!p) return
        clearTimeout(p.timer)
        this.pending.delete(f.id)
        return p.resolve(f.result)
      }
      case 'error':
        return this.h.onError(f.error)
    }
  }

  private failPending(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.resolve({ ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message } })
      this.pending.delete(id)
    }
  }
}
