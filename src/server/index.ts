/**
 * paddock as a library (`import ... from 'paddock'`):
 *  - defineConfig() types a `paddock.config.ts`;
 *  - startServer() runs an arbiter in this process, as Gunicorn's BaseApplication does, and
 *    gives back the same ArbiterApi the CLI's signals, `paddock ctl` and the dashboard use.
 * The CLI stays `bin/paddock.mjs`; nothing here installs signal handlers: the embedding
 * program owns its process.
 */
import { Arbiter } from './arbiter/arbiter.js'
import type { ArbiterApi } from './arbiter/api.js'
import { workerExecArgv } from './arbiter/exec-argv.js'
import { normalize, parseArgv, resolveConfig, type ResolvedConfig } from './config/resolve.js'
import { HOOK_NAMES, SETTINGS_BY_NAME } from './config/settings.js'
import { coerceSetting } from './config/validate.js'
import { startControlPlane, type ControlPlane } from './control/index.js'
import { PaddockError } from './errors.js'
import type { PaddockConfig, PaddockSettings } from './public-config.js'
import { boundAddress } from '../shared/listeners.js'
import type { StopMode } from '../shared/protocol.js'

export type { PaddockConfig, PaddockHooks, PaddockSettings, WorkerInfo, ForkingWorker, ExitedWorker } from './public-config.js'
export type { ArbiterApi, ReloadOutcome, ReexecOutcome } from './arbiter/api.js'
export type { ArbiterSnapshot, WorkerSnapshot, ControlEvent, ControlCommand, SettingInfo, StopMode, WorkerClassName } from '../shared/protocol.js'

/** Types a config file: `export default defineConfig({ workers: 4, worker_class: 'gthread' })`. */
export function defineConfig(config: PaddockConfig): PaddockConfig {
  return config
}

/**
 * What startServer() takes: the settings and app of a config file, and where to find one.
 * Hooks come from a config file (configFile), which every reload reads again; from code,
 * `api.onEvent` reports the same moments (worker spawned / ready / exited, reloads, state).
 */
export interface StartServerOptions extends PaddockSettings {
  /** MODULE[:EXPORT], as on the command line */
  app?: string
  /** command-line flags as `paddock` takes them (`['-w', '4']`); they win over everything else */
  argv?: string[]
  /** a config file to read first (its worker hooks run in the workers) */
  configFile?: string
  /** where relative paths and a default paddock.config.* are looked up (default: process.cwd()) */
  cwd?: string
}

export interface PaddockServer {
  /** the arbiter: reload, scale, change class, stop... the dashboard's API */
  api: ArbiterApi
  config: ResolvedConfig
  /** the addresses actually bound (127.0.0.1:43117, unix:/run/app.sock) */
  addresses: string[]
  /** the control socket `paddock ctl` and dashboards attach to, unless no_control_socket */
  controlSocket: string | null
  /** the control plane (control socket, metrics, browser dashboard) when one runs */
  controlPlane: ControlPlane | null
  /** TERM (graceful, default) or INT (quick); resolves once every worker is gone and the sockets are closed */
  stop(mode?: StopMode): Promise<void>
}

/**
 * Start an arbiter and its workers in this process. Precedence, lowest first: defaults,
 * the config file, the options given here, `argv`.
 */
export async function startServer(options: StartServerOptions = {}): Promise<PaddockServer> {
  const { argv = [], configFile, cwd, app, ...given } = options
  // The app and the config file travel in argv: a reload resolves argv again and keeps them.
  const appArg = app !== undefined && parseArgv(argv, 'command line').app === null ? [app] : []
  const config = await resolveConfig([...(configFile ? ['-c', configFile] : []), ...argv, ...appArg], { cwd })
  applyGiven(config, given)
  if (!config.app) throw new PaddockError('PADDOCK_ERR_USAGE', 'startServer: no app given (app: "MODULE[:EXPORT]")')

  const arbiter = new Arbiter(config, { execArgv: workerExecArgv(process.execArgv) })
  let plane: ControlPlane | null = null
  try {
    await arbiter.start()
    const s = config.settings
    if (!s.no_control_socket || s.metrics_bind || s.statsd_host || s.dashboard || s.control_bind) {
      plane = await startControlPlane(arbiter, { ...(s as Record<string, never>), name: (s.name ?? s.proc_name) as string | null })
    }
  } catch (err) {
    await arbiter.stop('quick').catch(() => {})
    throw err
  }
  return {
    api: arbiter,
    config,
    addresses: arbiter.snapshot().listeners.map(boundAddress),
    controlSocket: plane?.socketPath ?? null,
    controlPlane: plane,
    async stop(mode = 'graceful') {
      await plane?.close()
      await arbiter.stop(mode)
    },
  }
}

function applyGiven(config: ResolvedConfig, given: PaddockSettings): void {
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue
    if ((HOOK_NAMES as readonly string[]).includes(key)) {
      throw new PaddockError('PADDOCK_ERR_CONFIG', `startServer: hooks (${key}) come from a config file (configFile), which reloads read again; from code, use api.onEvent`)
    }
    const spec = SETTINGS_BY_NAME.get(key)
    if (!spec || key === 'config') throw new PaddockError('PADDOCK_ERR_CONFIG', `startServer: unknown setting "${key}"`)
    // the command line (argv) wins over what the code says
    if (config.sources[key] === 'cli') continue
    config.settings[key] = coerceSetting(spec, value, 'startServer')
    // 'control': the arbiter keeps such settings across a reload (which resolves argv and
    // the config file again), as it keeps those changed with `paddock ctl config set`
    config.sources[key] = 'control'
  }
  normalize(config.settings)
}
