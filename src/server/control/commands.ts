/**
 * ControlCommand -> ArbiterApi call. Validates shapes here so that a malformed
 * command from any transport gets PADDOCK_ERR_BAD_COMMAND with a precise message.
 */
import type { ArbiterApi, ReloadOutcome } from '../arbiter/api.js'
import type { ArbiterSnapshot, CommandResult, WorkerClassInput } from '../../shared/protocol.js'

const CLASSES = new Set(['sync', 'gthread', 'async', 'native', 'gevent', 'eventlet'])

function bad(message: string): CommandResult {
  return { ok: false, error: { code: 'PADDOCK_ERR_BAD_COMMAND', message } }
}

function count(v: unknown, name: string, required: boolean): number | undefined | string {
  if (v === undefined && !required) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (required ? 1 : 1)) {
    return `${name} must be a positive integer, got ${JSON.stringify(v)}`
  }
  return v
}

function reloadResult(r: ReloadOutcome): CommandResult {
  if (r.ok) return { ok: true, data: r, message: `generation ${r.generation} serving` }
  return { ok: false, error: { code: 'PADDOCK_ERR_BOOT', message: r.error ?? 'the new generation failed to boot; the old one keeps serving' } }
}

export async function runCommand(
  arbiter: ArbiterApi,
  command: unknown,
  snapshot: () => ArbiterSnapshot,
): Promise<CommandResult> {
  if (!command || typeof command !== 'object' || typeof (command as { cmd?: unknown }).cmd !== 'string') {
    return bad('command must be an object with a string "cmd"')
  }
  const c = command as Record<string, unknown> & { cmd: string }
  switch (c.cmd) {
    case 'status':
      return { ok: true, data: snapshot() }
    case 'reload':
      return reloadResult(await arbiter.reload('control'))
    case 'workers.add':
    case 'workers.remove':
    case 'workers.scale': {
      const n = count(c.count, 'count', c.cmd === 'workers.scale')
      if (typeof n === 'string') return bad(n)
      const target =
        c.cmd === 'workers.add' ? arbiter.addWorkers(n) : c.cmd === 'workers.remove' ? arbiter.removeWorkers(n) : arbiter.scaleTo(n!)
      return { ok: true, data: { target }, message: `target workers: ${target}` }
    }
    case 'workers.kill': {
      if (typeof c.pid !== 'number' || !Number.isInteger(c.pid) || c.pid <= 0) return bad('pid must be a positive integer')
      if (c.signal !== undefined && typeof c.signal !== 'string') return bad('signal must be a string such as "SIGTERM"')
      arbiter.killWorker(c.pid, c.signal as string | undefined)
      return { ok: true, message: `sent ${(c.signal as string | undefined) ?? 'SIGTERM'} to ${c.pid}` }
    }
    case 'class.set': {
      if (typeof c.workerClass !== 'string' || !CLASSES.has(c.workerClass)) {
        return bad(`workerClass must be one of ${[...CLASSES].join(', ')}`)
      }
      const threads = count(c.threads, 'threads', false)
      if (typeof threads === 'string') return bad(threads)
      const wc = count(c.workerConnections, 'workerConnections', false)
      if (typeof wc === 'string') return bad(wc)
      return reloadResult(
        await arbiter.setWorkerClass(c.workerClass as WorkerClassInput, { threads, workerConnections: wc }),
      )
    }
    case 'logs.reopen':
      arbiter.reopenLogs()
      return { ok: true, message: 'log files reopened' }
    case 'stop': {
      if (c.mode !== undefined && c.mode !== 'graceful' && c.mode !== 'quick') return bad('mode must be "graceful" or "quick"')
      // Answer first: the transport that carries the answer goes away with the arbiter.
      setImmediate(() => void arbiter.stop(c.mode as 'graceful' | 'quick' | undefined).catch(() => {}))
      return { ok: true, message: `stopping (${(c.mode as string | undefined) ?? 'graceful'})` }
    }
    case 'config.get': {
      const all = arbiter.settings()
      if (c.name === undefined) return { ok: true, data: all }
      const one = all.find((s) => s.name === c.name || s.name === String(c.name).replace(/-/g, '_'))
      if (!one) return { ok: false, error: { code: 'PADDOCK_ERR_UNKNOWN_SETTING', message: `no setting named "${String(c.name)}"` } }
      return { ok: true, data: one }
    }
    case 'config.set': {
      if (typeof c.name !== 'string') return bad('name must be a string')
      const info = await arbiter.setSetting(c.name, c.value)
      return { ok: true, data: info, message: `${info.name} = ${JSON.stringify(info.value)} (${info.apply})` }
    }
    case 'start':
    case 'app.set':
    case 'load.start':
    case 'load.stop':
    case 'experiment.run':
      return { ok: false, error: { code: 'PADDOCK_ERR_STATE', message: `"${c.cmd}" is not available on this host` } }
    default:
      return bad(`unknown command "${c.cmd}"`)
  }
}
