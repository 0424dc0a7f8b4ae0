/**
 * systemd integration: socket activation (LISTEN_FDS / LISTEN_PID) and the READY=1
 * notification (NOTIFY_SOCKET), see sd_listen_fds(3) and sd_notify(3).
 */
import { execFile } from 'node:child_process'
import type { InheritedListener } from './reexec.js'

/** sd_listen_fds' SD_LISTEN_FDS_START */
const LISTEN_FDS_START = 3

export interface SocketActivation {
  listeners: InheritedListener[]
  /** why LISTEN_FDS was ignored, for the log once there is one */
  warning: string | null
}

/**
 * Take the activated sockets out of the environment. The variables are removed whatever
 * their value: LISTEN_PID names one process, and a worker (or a master started by USR2,
 * which gets its sockets through PADDOCK_INHERITED_FDS) that saw them would be wrong.
 * LISTEN_PID must be this very process, as sd_listen_fds() demands: systemd sets it to the
 * service's main pid, which is node itself when ExecStart starts node or the paddock
 * script (its `#!/usr/bin/env node` execs). Anything in between that forks (npx, a shell
 * without exec) makes the pid differ, and then the fds are not ours to take.
 */
export function takeSocketActivation(env: NodeJS.ProcessEnv = process.env, pid = process.pid): SocketActivation | null {
  const fds = env.LISTEN_FDS
  const forPid = env.LISTEN_PID
  delete env.LISTEN_FDS
  delete env.LISTEN_PID
  delete env.LISTEN_FDNAMES
  if (fds === undefined) return null
  if (forPid !== String(pid)) return { listeners: [], warning: `LISTEN_FDS=${fds} ignored: LISTEN_PID=${forPid ?? '(unset)'} is not this process (${pid}); binding the configured addresses instead` }
  const n = Number(fds)
  if (!Number.isInteger(n) || n < 1) return { listeners: [], warning: `LISTEN_FDS=${fds} ignored: not a positive number of sockets` }
  return { listeners: Array.from({ length: n }, (_, i) => ({ fd: LISTEN_FDS_START + i, bind: `fd://${LISTEN_FDS_START + i}` })), warning: null }
}

/**
 * Take NOTIFY_SOCKET out of the environment so that an app in a worker cannot announce
 * readiness (or anything else) in the master's name.
 */
export function takeNotifySocket(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.NOTIFY_SOCKET
  delete env.NOTIFY_SOCKET
  return v || null
}

/**
 * READY=1 with MAINPID=this master. Node has no Unix datagram sockets, so the message is
 * sent by systemd-notify(1), which needs NotifyAccess=all in the unit (the sender is a
 * child of the master, not the main pid). MAINPID also lets a master started by USR2 take
 * over as the service's main process before the old one exits.
 */
export function notifyReady(socket: string, pid = process.pid): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('systemd-notify', ['--ready', `--pid=${pid}`], { env: { ...process.env, NOTIFY_SOCKET: socket }, timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve(null)
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'systemd-notify is not installed' : (String(stderr).trim() || err.message)
      resolve(`could not send READY=1 to NOTIFY_SOCKET ${socket}: ${why}`)
    })
  })
}
