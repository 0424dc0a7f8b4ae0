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
import { PaddockError } from '../errors.js'

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
