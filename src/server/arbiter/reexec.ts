/**
 * USR2: start a new master on the same listening sockets (Gunicorn's re-exec, nginx's
 * binary upgrade). Node cannot exec() in place, so the running master spawns the new one
 * as a child: the same node, the same execArgv, the CLI entry and its argv, in the
 * directory the first master was started from (a relative config or app path means what
 * it meant then, even after --chdir).
 *
 * Process layout of a new master:
 *   fd 0,1,2         the old master's stdio (its log lines land where the old one's do)
 *   fd 3..3+N-1      one duplicate of each of the old master's listening sockets
 *   fd 3+N           a Node IPC channel to the old master (NODE_CHANNEL_FD)
 *   PADDOCK_INHERITED_FDS  JSON [{ "fd": 3, "bind": "127.0.0.1:8000" }, ...]: which fds
 *                    are already-bound listeners and which bind each one was, so the new
 *                    master listens on them instead of binding (the kernel keeps one
 *                    queue per socket: nothing is refused while both masters run).
 *
 * Over the channel the new master says `ready` once it serves (or `failed` with the
 * reason); the old master logs it. The channel closing is how the new master learns the
 * old one is gone: only then does it open its control plane (control socket, metrics,
 * dashboard), so the two never fight over a socket path or a port, and an old master
 * whose successor failed still owns all of them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { PaddockError, describeError } from '../errors.js'
import type { UpgradeState } from '../../shared/protocol.js'
import type { ErrorLog } from '../log/logger.js'
import type { ReexecOutcome } from './api.js'
import type { Pidfile } from './pidfile.js'

export const INHERITED_FDS_ENV = 'PADDOCK_INHERITED_FDS'
/** The new master's first inherited listener: right after stdio. */
export const FIRST_INHERITED_FD = 3

export interface InheritedListener {
  fd: number
  /** the bind as the previous master (or systemd) had it: label and match key */
  bind: string
}

/** Where and how the current master was started: what a USR2 repeats. */
export interface LaunchContext {
  execPath: string
  execArgv: string[]
  /** the CLI entry and its arguments (process.argv without the node executable) */
  argv: string[]
  cwd: string
  /** variables the master took out of its own environment (NOTIFY_SOCKET) that a new master needs again */
  env?: NodeJS.ProcessEnv
}

export type NewMasterMessage = { t: 'paddock:master-ready'; pid: number } | { t: 'paddock:master-failed'; error: string }

/**
 * Read and remove PADDOCK_INHERITED_FDS. Removed so that workers, and a master started
 * by a later USR2 of this one, never mistake these fds for theirs.
 */
export function takeInheritedFds(env: NodeJS.ProcessEnv = process.env): InheritedListener[] | null {
  const raw = env[INHERITED_FDS_ENV]
  if (raw === undefined) return null
  delete env[INHERITED_FDS_ENV]
  let list: unknown
  try {
    list = JSON.parse(raw)
  } catch {
    throw new PaddockError('PADDOCK_ERR_CONFIG', `${INHERITED_FDS_ENV} is not JSON: ${raw.slice(0, 80)}`)
  }
  const valid = Array.isArray(list) && list.length > 0 && list.every((e) => e && Number.isInteger(e.fd) && e.fd >= FIRST_INHERITED_FD && typeof e.bind === 'string')
  if (!valid) throw new PaddockError('PADDOCK_ERR_CONFIG', `${INHERITED_FDS_ENV} must be a non-empty JSON list of {"fd": N >= 3, "bind": "..."}, got ${raw.slice(0, 80)}`)
  return (list as InheritedListener[]).map((e) => ({ fd: e.fd, bind: e.bind }))
}

/** Spawn the new master with the listening sockets, in order, as its fds 3.. and an IPC channel after them. */
export function spawnNewMaster(launch: LaunchContext, listeners: { fd: number; bind: string }[]): ChildProcess {
  const inherited: InheritedListener[] = listeners.map((l, i) => ({ fd: FIRST_INHERITED_FD + i, bind: l.bind }))
  const env: NodeJS.ProcessEnv = { ...process.env, ...launch.env, [INHERITED_FDS_ENV]: JSON.stringify(inherited) }
  return spawn(launch.execPath, [...launch.execArgv, ...launch.argv], {
    cwd: launch.cwd,
    env,
    // Not detached: like Gunicorn's fork, the new master stays in the old one's process
    // group and session, so a terminal's Ctrl-C or a service manager reaches both.
    stdio: ['inherit', 'inherit', 'inherit', ...listeners.map((l) => l.fd), 'ipc'],
  })
}

/** In a master started by USR2: tell the old master, if it still listens. Small messages on an idle channel are written at once, so this survives a process.exit() right after. */
export function tellOldMaster(m: NewMasterMessage): void {
  if (process.send && process.connected) process.send(m)
}

/** The master a USR2 started, while it runs. */
export interface ChildMaster {
  pid: number
  child: ChildProcess
  ready: boolean
  failure: string | null
}

/** What the old master's side of a USR2 needs from the arbiter. */
export interface ReexecHost {
  readonly log: ErrorLog
  readonly pidfile: Pidfile
  /** how this master was started; without it there is no USR2 (an arbiter hosted in-process) */
  readonly launch: LaunchContext | undefined
  /** in a master started by USR2: the old master's pid while it still runs, else null */
  oldMasterPid(): number | null
  stopping(): boolean
  listeners(): { fd: number; bind: string }[]
  /** After WINCH (no workers, spawning held): how many workers to start again; null while this master has its workers. */
  stoppedWorkers(): number | null
  addWorkers(n: number): void
  /** ready workers of the current generation, not on their way out */
  readyWorkers(): number
  /** how long to wait for them */
  readyWithinMs(): number
  onEvent(listener: () => void): () => void
}

/** The old master's side of a USR2: start the new master, follow it, call it off. */
export class Reexec {
  private childMaster: ChildMaster | null = null

  constructor(private readonly host: ReexecHost) {}

  /** for the snapshot */
  state(): UpgradeState {
    const oldMasterPid = this.host.oldMasterPid()
    const child = this.childMaster
    return {
      available: Boolean(this.host.launch) && !this.host.stopping() && !child && oldMasterPid === null,
      newMasterPid: child?.pid ?? null,
      newMasterReady: child?.ready ?? false,
      oldMasterPid,
    }
  }

  /**
   * USR2: start a new master on the same listening sockets, with its own workers. Both
   * masters serve until the operator stops one: TERM (or WINCH, then TERM) to this one
   * finishes the switch, TERM to the new one goes back. Resolves once the new master is
   * ready, or with why there is none (also logged): this master serves on either way.
   */
  start(): Promise<ReexecOutcome> {
    const { log, pidfile } = this.host
    const refuse = (why: string): Promise<ReexecOutcome> => {
      log.warning(`USR2 ignored: ${why}`)
      return Promise.resolve({ ok: false, error: why })
    }
    if (this.host.stopping()) return refuse('this master is stopping')
    if (this.childMaster) return refuse(`a new master (pid ${this.childMaster.pid}) is already running; send TERM to this master (pid ${process.pid}) to finish the switch, or to ${this.childMaster.pid} to cancel it`)
    const oldPid = this.host.oldMasterPid()
    if (oldPid !== null) return refuse(`this master was started by USR2 and the old master (pid ${oldPid}) still runs; send it TERM first`)
    const launch = this.host.launch
    if (!launch) return refuse('this master was not started by the paddock command, so it cannot start another one')
    log.info('Handling signal: usr2')
    const pidfilePath = pidfile.path
    pidfile.moveAside()
    let child: ChildProcess
    try {
      child = spawnNewMaster(launch, this.host.listeners())
    } catch (err) {
      pidfile.restore()
      return refuse(`could not start a new master: ${describeError(err)}`)
    }
    let settle!: (o: ReexecOutcome) => void
    const outcome = new Promise<ReexecOutcome>((resolve) => (settle = resolve))
    const m: ChildMaster = { pid: child.pid ?? -1, child, ready: false, failure: null }
    this.childMaster = m
    log.info(`Starting a new master (pid ${m.pid}) on the same sockets${pidfilePath ? `; this master's pidfile is now ${pidfilePath}.oldbin` : ''}`)
    child.on('message', (msg: NewMasterMessage) => {
      if (msg?.t === 'paddock:master-ready') {
        m.ready = true
        settle({ ok: true, pid: m.pid })
        log.info(`New master (pid ${m.pid}) is ready: both masters serve. Send TERM (or WINCH, then TERM) to this master (pid ${process.pid}) to finish the switch, or TERM to ${m.pid} to go back`)
      } else if (msg?.t === 'paddock:master-failed') m.failure = msg.error
    })
    child.on('error', (err) => {
      m.failure ??= describeError(err)
    })
    // 'close', not 'exit': a last message on the channel is read before it.
    child.on('close', (code, signal) => {
      if (this.childMaster !== m) return
      this.childMaster = null
      // before the log line: whoever reads the log then finds the pidfile right
      if (!this.host.stopping()) pidfile.restore()
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      if (!m.ready) {
        const failed = `failed to start: ${m.failure ?? `it ${how}`}; this master keeps serving`
        settle({ ok: false, error: `new master (pid ${m.pid}) ${failed}` })
        log.error(`New master (pid ${m.pid}) ${failed}`)
      }
      else log.warning(`New master (pid ${m.pid}) ${how}; this master (pid ${process.pid}) serves alone again`)
    })
    return outcome
  }

  /**
   * Call off a USR2: this master serves alone again. If WINCH had stopped its workers they
   * start first, and the new master is stopped (TERM: it drains) only once they are ready,
   * so that nobody is left to refuse a connection. Resolves when the new master has exited.
   */
  async cancel(): Promise<ReexecOutcome> {
    const m = this.childMaster
    if (!m) return { ok: false, error: 'no new master is running' }
    if (this.host.stopping()) return { ok: false, error: 'this master is stopping' }
    const want = this.host.stoppedWorkers()
    if (want !== null) {
      this.host.log.info(`Calling off the new master (pid ${m.pid}): starting ${want} worker${want === 1 ? '' : 's'} here first`)
      this.host.addWorkers(want)
      const ready = await this.until(() => this.host.readyWorkers() >= want, this.host.readyWithinMs())
      if (!ready) return { ok: false, error: `this master's workers did not become ready; the new master (pid ${m.pid}) keeps serving` }
    } else this.host.log.info(`Calling off the new master (pid ${m.pid})`)
    const closed = new Promise<void>((resolve) => {
      if (m.child.exitCode !== null || m.child.signalCode !== null) resolve()
      else m.child.once('close', () => resolve())
    })
    try {
      process.kill(m.pid, 'SIGTERM')
    } catch {
      // gone already
    }
    await closed
    return { ok: true, pid: m.pid }
  }

  /** This master is stopping: say so if the new master is not serving yet. */
  warnIfAlone(): void {
    const m = this.childMaster
    if (m && !m.ready) this.host.log.warning(`stopping while the new master (pid ${m.pid}) is not ready yet: it is now the only one left to serve`)
  }

  /**
   * This master has stopped. A new master started by USR2 lives on: its process and
   * channel must not keep this one alive (a stop by signal exits at once; a stop over the
   * control socket waits for the event loop to empty). The channel closes when this
   * process exits, which is how the new master learns it is alone.
   */
  release(): void {
    if (!this.childMaster) return
    this.childMaster.child.unref()
    this.childMaster.child.channel?.unref()
  }

  /** Resolves true once `done()` holds (checked on every event), false after `ms`. */
  private until(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const finish = (v: boolean) => {
        clearTimeout(timer)
        off()
        resolve(v)
      }
      const timer = setTimeout(() => finish(done()), ms)
      const off = this.host.onEvent(() => {
        if (done()) finish(true)
      })
    })
  }
}
