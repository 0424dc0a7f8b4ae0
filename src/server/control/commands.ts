/**
 * ControlCommand -> ArbiterApi call. Validates shapes here so that a malformed
 * command from any transport gets PADDOCK_ERR_BAD_COMMAND with a precise message.
 */
import { isHost, type ArbiterApi, type HostApi, type ReloadOutcome } from '../arbiter/api.js'
import type { ReplayedHistory } from '../../shared/history.js'
import type { ArbiterSnapshot, CommandResult, ExperimentOptions, LoadOptions } from '../../shared/protocol.js'
import { checkLiveChange } from '../config/live-change.js'
import { isWorkerClassInput, WORKER_CLASS_INPUTS, WORKER_CLASSES } from '../../shared/worker-classes.js'

/** How long a reexec command waits for the new master to say it is ready. */
const REEXEC_WAIT_MS = 60_000

function bad(message: string): CommandResult {
  return { ok: false, error: { code: 'PADDOCK_ERR_BAD_COMMAND', message } }
}

function count(v: unknown, name: string, required: boolean): number | undefined | string {
  if (v === undefined && !required) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
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
  snapshot: () => ArbiterSnapshot | Promise<ArbiterSnapshot>,
  history: () => ReplayedHistory = () => ({ points: [], events: [] }),
): Promise<CommandResult> {
  if (!command || typeof command !== 'object' || typeof (command as { cmd?: unknown }).cmd !== 'string') {
    return bad('command must be an object with a string "cmd"')
  }
  const c = command as Record<string, unknown> & { cmd: string }
  switch (c.cmd) {
    case 'status':
      return { ok: true, data: await snapshot() }
    case 'history.get': {
      const h = history()
      return { ok: true, data: h, message: `${h.points.length} points, ${h.events.length} events` }
    }
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
      const workerClass = c.workerClass
      if (!isWorkerClassInput(workerClass)) return bad(`workerClass must be one of ${WORKER_CLASS_INPUTS.join(', ')}`)
      const threads = count(c.threads, 'threads', false)
      if (typeof threads === 'string') return bad(threads)
      const wc = count(c.workerConnections, 'workerConnections', false)
      if (typeof wc === 'string') return bad(wc)
      return reloadResult(
        await arbiter.setWorkerClass(workerClass, { threads, workerConnections: wc }),
      )
    }
    case 'logs.reopen':
      arbiter.reopenLogs()
      return { ok: true, message: 'log files reopened' }
    case 'workers.stopAll':
      // Answer once the drain has begun, not when it ends: that can take --graceful-timeout.
      void arbiter.stopWorkers()
      return { ok: true, data: { target: 0 }, message: 'stopping every worker; the master keeps its sockets (HUP or scale brings workers back)' }
    case 'reexec.cancel': {
      const r = await arbiter.cancelReexec()
      if (!r.ok) return { ok: false, error: { code: 'PADDOCK_ERR_STATE', message: r.error } }
      return { ok: true, data: { pid: r.pid }, message: `the new master (pid ${r.pid}) has stopped; this master serves alone again` }
    }
    case 'reexec': {
      const r = await Promise.race([
        arbiter.reexec(),
        new Promise<null>((resolve) => setTimeout(resolve, REEXEC_WAIT_MS, null).unref()),
      ])
      if (r === null) return { ok: true, message: `a new master is still starting after ${REEXEC_WAIT_MS / 1000} s; see the log` }
      if (!r.ok) return { ok: false, error: { code: 'PADDOCK_ERR_STATE', message: r.error } }
      return {
        ok: true,
        data: { pid: r.pid },
        message: `new master (pid ${r.pid}) is ready and both serve: stop this master to finish the switch (WINCH / stop-workers first drains its workers), or TERM ${r.pid} to go back`,
      }
    }
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
      const target = arbiter.snapshot().targetWorkers
      checkLiveChange(c.name, c.value, Object.fromEntries(arbiter.settings().map((i) => [i.name, i.value])), target)
      const info = await arbiter.setSetting(c.name, c.value)
      return { ok: true, data: info, message: `${info.name} = ${JSON.stringify(info.value)} (${info.apply})` }
    }
    case 'start':
    case 'app.set':
    case 'load.start':
    case 'load.stop':
    case 'experiment.run':
      if (!isHost(arbiter)) {
        return { ok: false, error: { code: 'PADDOCK_ERR_STATE', message: `"${c.cmd}" is only available in a dashboard that hosts the server (paddock dashboard, the desktop app)` } }
      }
      return hostCommand(arbiter, c)
    default:
      return bad(`unknown command "${c.cmd}"`)
  }
}

function loadOptions(v: unknown): LoadOptions | string {
  if (!v || typeof v !== 'object') return 'options must be an object'
  const o = v as Record<string, unknown>
  if (typeof o.url !== 'string' || !o.url) return 'options.url must be a URL or a path such as "/io?ms=100"'
  if (typeof o.connections !== 'number' || !Number.isInteger(o.connections) || o.connections < 1 || o.connections > 10_000) {
    return 'options.connections must be an integer from 1 to 10000'
  }
  const hasDuration = typeof o.duration === 'number' && o.duration > 0 && o.duration <= 3600
  const hasAmount = typeof o.amount === 'number' && Number.isInteger(o.amount) && o.amount > 0
  if (!hasDuration && !hasAmount) return 'give options.duration (seconds, at most 3600) or options.amount (requests)'
  if (o.rate !== undefined && (typeof o.rate !== 'number' || o.rate <= 0)) return 'options.rate must be a positive number of requests per second'
  if (typeof o.keepAlive !== 'boolean') return 'options.keepAlive must be true or false'
  return o as unknown as LoadOptions
}

async function hostCommand(host: ArbiterApi & HostApi, c: Record<string, unknown> & { cmd: string }): Promise<CommandResult> {
  switch (c.cmd) {
    case 'start':
      await host.start()
      return { ok: true, message: 'server started' }
    case 'app.set':
      if (typeof c.app !== 'string' || !c.app.trim()) return bad('app must be a module path such as ./app.mjs or ./app.mjs:handler')
      return reloadResult(await host.setApp(c.app.trim()))
    case 'load.start': {
      const o = loadOptions(c.options)
      if (typeof o === 'string') return bad(o)
      const { url } = host.startLoad(o)
      return { ok: true, data: { url }, message: `load started against ${url}` }
    }
    case 'load.stop':
      return host.stopLoad() ? { ok: true, message: 'load stopping' } : { ok: false, error: { code: 'PADDOCK_ERR_STATE', message: 'no load test is running' } }
    case 'experiment.run': {
      const opts = c.options as ExperimentOptions | undefined
      const o = loadOptions(opts?.load)
      if (typeof o === 'string') return bad(o)
      if (!Array.isArray(opts?.subjects) || opts.subjects.length === 0) return bad('options.subjects must list at least one worker class to compare')
      for (const s of opts.subjects) {
        if (!s || !isWorkerClassInput(s.workerClass) || !Number.isInteger(s.workers) || s.workers < 1 || s.workers > 64) {
          return bad(`each subject needs workerClass (${WORKER_CLASSES.join(', ')}) and workers (1..64)`)
        }
      }
      const out = await host.runExperiment({ load: o, subjects: opts.subjects })
      return { ok: true, data: out, message: 'experiment done' }
    }
  }
  return bad(`unknown command "${c.cmd}"`)
}
