/**
 * The types of a paddock configuration, as `import { defineConfig } from 'paddock'` gives
 * them to a `paddock.config.ts`. Settings are derived from the one settings table
 * (config/settings.ts): a setting added there is typed here without a second list.
 * Hook signatures are what the arbiter and the workers pass (arbiter.ts, worker/main.ts,
 * http/server.ts), checked against the one list of hook names.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TlsOptions } from 'node:tls'
import type { ArbiterApi } from './arbiter/api.js'
import type { HookName, SettingsTable } from './config/settings.js'
import type { WorkerClassName } from '../shared/protocol.js'

type Spec = SettingsTable[number]

type ValueOf<S extends Spec> = S['type'] extends 'bool'
  ? boolean
  : S['type'] extends 'int' | 'number'
    ? S extends { words: readonly (infer W extends string)[] } ? number | W : number
    : S['type'] extends 'list'
      ? string | readonly string[]
      : S['type'] extends 'object'
        ? Readonly<Record<string, string>>
      : S extends { choices: readonly (infer C extends string)[] }
        ? C
        : string

/** A setting whose default is "not set" (null) may be set back to null. */
type Unset<S extends Spec> = S['default'] extends null ? null : never

/**
 * Every setting by its config-file name (Gunicorn's snake_case: `worker_class`,
 * `max_requests`, ...). `config` itself is left out: a config file does not name itself.
 */
export type PaddockSettings = { [S in Spec as Exclude<S['name'], 'config'>]?: ValueOf<S> | Unset<S> }

/** A worker process, as worker hooks receive it. */
export interface WorkerInfo {
  pid: number
  /** the arbiter's number for this worker (stable across its life, not reused) */
  id: number
  /** PADDOCK_WORKER_ID: 0..N-1, taken over by the worker's replacement */
  slot: number
  generation: number
  workerClass: WorkerClassName
  /** the settings the worker runs with */
  settings: Record<string, unknown>
}

/** A worker about to be forked (pre_fork): no pid yet. */
export interface ForkingWorker {
  id: number
  generation: number
  workerClass: WorkerClassName
}

/** A worker that has exited (child_exit). */
export interface ExitedWorker extends ForkingWorker {
  pid: number
  /** why it exited, in words (drained for a reload, killed by SIGKILL, boot failed: ...) */
  reason: string | null
  exitCode: number | null
  exitSignal: string | null
}

/**
 * Gunicorn's server hooks, adapted: the ones that receive the arbiter run in the master;
 * any may be async. paddock awaits on_starting, when_ready, post_fork and post_worker_init
 * for at most --boot-timeout, and worker_int, worker_exit and on_exit for at most
 * --graceful-timeout; a hook that throws, rejects or runs out of time is one log line.
 * the others run in each worker process (so, in startServer(), they must come from a
 * config file: a function cannot be sent to another process).
 */
export interface PaddockHooks {
  on_starting(arbiter: ArbiterApi): void | Promise<void>
  on_reload(arbiter: ArbiterApi): void | Promise<void>
  when_ready(arbiter: ArbiterApi): void | Promise<void>
  pre_fork(arbiter: ArbiterApi, worker: ForkingWorker): void | Promise<void>
  post_fork(arbiter: null, worker: WorkerInfo): void | Promise<void>
  post_worker_init(worker: WorkerInfo): void | Promise<void>
  worker_int(worker: WorkerInfo): void | Promise<void>
  worker_abort(worker: WorkerInfo): void | Promise<void>
  pre_request(req: IncomingMessage): void | Promise<void>
  post_request(req: IncomingMessage, res: ServerResponse): void | Promise<void>
  child_exit(arbiter: ArbiterApi, worker: ExitedWorker): void | Promise<void>
  worker_exit(arbiter: null, worker: WorkerInfo): void | Promise<void>
  nworkers_changed(arbiter: ArbiterApi, newValue: number, oldValue: number): void | Promise<void>
  on_exit(arbiter: ArbiterApi): void | Promise<void>
  /** each worker, setting up TLS: change Node's TLS options, or return new ones (Gunicorn's ssl_context) */
  ssl_context(settings: Record<string, unknown>, options: TlsOptions): TlsOptions | void
}

// Compile-time check: PaddockHooks names exactly the hooks of HOOK_NAMES, no more, no fewer.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const hooksMatchTheList: Same<keyof PaddockHooks, HookName> = true
void hooksMatchTheList

/** What a `paddock.config.ts` exports: settings, the app, hooks. */
export type PaddockConfig = PaddockSettings &
  Partial<PaddockHooks> & {
    /** MODULE[:EXPORT], as on the command line; the command line's wins. */
    app?: string
  }
