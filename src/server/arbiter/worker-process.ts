/**
 * What the arbiter does to a worker process: fork it, send it a message, drain it, signal
 * it, stop them all. The record keeps why it was stopped (`reason`, `expectedExit`), so
 * that its exit is reported as wanted or not.
 */
import { fork, type ChildProcess } from 'node:child_process'
import type { ControlEvent, StopMode, WorkerClassName } from '../../shared/protocol.js'
import type { ResolvedConfig } from '../config/resolve.js'
import { WORKER_ENV, type MasterMessage, type WorkerBootInfo } from '../worker/ipc.js'
import type { BoundListener } from './binds.js'
import type { WorkerRecord } from './worker-record.js'
import type { WorkerIdentity } from '../platform/identity.js'

const HEARTBEAT_MS = 250
/** the listeners follow stdio and the IPC channel: fds 4.. in the worker */
const FIRST_LISTENER_FD = 4

/** Fork a worker with its boot info in the environment and the listening sockets as fds 4.. */
export function forkWorker(
  entry: string,
  w: { id: number; generation: number; workerClass: WorkerClassName; slot: number },
  config: ResolvedConfig,
  listeners: BoundListener[],
  execArgv: string[],
  identity: WorkerIdentity | null = null,
): ChildProcess {
  const s = config.settings
  const info: WorkerBootInfo = {
    id: w.id,
    slot: w.slot,
    generation: w.generation,
    workerClass: w.workerClass,
    listeners: listeners.map((l, i) => ({ fd: FIRST_LISTENER_FD + i, kind: l.snapshot.kind, bind: l.spec.bind })),
    configFile: config.configFile,
    settings: { ...s, app: config.app },
    heartbeatMs: HEARTBEAT_MS,
    masterPid: process.pid,
    identity,
  }
  const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_ENV]: JSON.stringify(info), PADDOCK_WORKER_CLASS: w.workerClass, PADDOCK_GENERATION: String(w.generation), PADDOCK_WORKER_ID: String(w.slot) }
  for (const kv of (s.raw_env as string[]) ?? []) {
    const i = kv.indexOf('=')
    env[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return fork(entry, [], {
    // --capture-output: stdout and stderr come to the master through pipes (capture.ts)
    stdio: s.capture_output ? ['inherit', 'pipe', 'pipe', 'ipc', ...listeners.map((l) => l.fd)] : ['inherit', 'inherit', 'inherit', 'ipc', ...listeners.map((l) => l.fd)],
    env,
    execArgv,
    cwd: s.chdir ? String(s.chdir) : undefined,
  })
}

export function sendTo(w: WorkerRecord, m: MasterMessage): void {
  if (w.child?.connected) w.child.send(m, (err) => void err)
}

/** Signal a worker; its exit is then expected, for the first reason given. */
export function terminate(w: WorkerRecord, signal: NodeJS.Signals, reason: string): void {
  if (w.state === 'exited') return
  w.expectedExit = true
  w.reason ??= reason
  try {
    process.kill(w.pid, signal)
  } catch {
    // already gone
  }
}

/** Ask a ready worker to finish its requests and exit (one not ready yet is killed). Resolves once its exit is recorded. */
export function drain(w: WorkerRecord, reason: string, graceMs: number, emit: (event: ControlEvent) => void): Promise<void> {
  const exited = w.gone
  if (w.state === 'draining' || w.state === 'exited') return exited
  if (w.state !== 'ready') {
    terminate(w, 'SIGKILL', reason)
    return exited
  }
  w.state = 'draining'
  w.reason = reason
  w.expectedExit = true
  emit({ type: 'worker.draining', at: Date.now(), pid: w.pid, generation: w.generation, reason })
  sendTo(w, { t: 'drain', reason, gracefulTimeoutMs: graceMs })
  // The worker enforces the graceful timeout itself; this is the backstop.
  const backstop = setTimeout(() => terminate(w, 'SIGKILL', `still alive ${graceMs + 2000} ms after drain`), graceMs + 2000)
  backstop.unref()
  return exited
}

/**
 * TERM drains the ready workers and kills the others; INT / QUIT sends SIGQUIT to all.
 * Whoever is left after the grace time (graceful) or 2 s (quick) gets SIGKILL. Resolves
 * once every exit is recorded.
 */
export async function stopWorkers(live: () => WorkerRecord[], mode: StopMode, graceMs: number, emit: (event: ControlEvent) => void): Promise<void> {
  const workers = live()
  const exited = workers.map((w) => w.gone)
  for (const w of workers) {
    if (mode === 'graceful' && w.state === 'ready') void drain(w, 'graceful stop (TERM)', graceMs, emit)
    else terminate(w, mode === 'graceful' ? 'SIGKILL' : 'SIGQUIT', mode === 'graceful' ? 'stopping' : 'quick stop')
  }
  const limit = mode === 'graceful' ? graceMs + 1000 : 2000
  const timer = setTimeout(() => {
    for (const w of live()) terminate(w, 'SIGKILL', 'stop timeout')
  }, limit)
  await Promise.all(exited)
  clearTimeout(timer)
}
