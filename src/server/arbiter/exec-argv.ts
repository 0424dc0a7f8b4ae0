/**
 * The Node options a worker process starts with: the master's own (`node --max-old-space-size=4096
 * --import ./tracing.mjs paddock app.mjs`), as Node's cluster does, so that a flag given to
 * paddock reaches the processes that run the app. Two kinds are changed on the way:
 *
 * - an inspector flag (`--inspect`, `--inspect-brk`, `--inspect-wait`, with or without
 *   HOST:PORT) becomes `--inspect=HOST:0` in each worker: one fixed port cannot serve every
 *   worker and its replacements (each prints its own "Debugger listening on ws://..."), and
 *   a worker stopped at a breakpoint before it boots would only be killed by --timeout;
 * - `--watch` and its companions belong to the process that restarts the master, not to
 *   the workers it supervises.
 */
const INSPECT = /^--inspect(?:-brk|-wait)?(?:=(.*))?$/
const DROPPED_WITH_VALUE = new Set(['--inspect-port', '--debug-port', '--watch-path'])
const DROPPED = new Set(['--watch', '--watch-preserve-output'])

export function workerExecArgv(master: readonly string[]): string[] {
  const out: string[] = []
  let inspectHost: string | null = null
  for (let i = 0; i < master.length; i++) {
    const a = master[i]!
    const eq = a.indexOf('=')
    const name = eq === -1 ? a : a.slice(0, eq)
    const m = INSPECT.exec(a)
    if (m) {
      const hostPort = m[1]
      // HOST:PORT, PORT, or HOST; [::1]:9229 keeps its brackets
      const host = hostPort === undefined ? '127.0.0.1' : /^\d+$/.test(hostPort) ? '127.0.0.1' : hostPort.replace(/:\d+$/, '')
      inspectHost ??= host || '127.0.0.1'
      continue
    }
    if (DROPPED_WITH_VALUE.has(name)) {
      if (eq === -1) i++ // the value is the next argument
      continue
    }
    if (DROPPED.has(name)) continue
    out.push(a)
  }
  if (inspectHost !== null) out.push(`--inspect=${inspectHost}:0`)
  return out
}
