/**
 * `paddock [OPTIONS] MODULE[:EXPORT]` and its subcommands (ctl, dashboard, load).
 * Every user error is one line on stderr, `paddock: ...`, and a non-zero exit.
 */
import { readFileSync, existsSync } from 'node:fs'
import { describeError, exitStatus, PaddockError } from '../errors.js'
import { resolveConfig, helpText, type ResolvedConfig } from '../config/resolve.js'
import { Arbiter, type ArbiterOptions } from '../arbiter/arbiter.js'
import { workerExecArgv } from '../arbiter/exec-argv.js'
import { INHERITED_FDS_ENV, takeInheritedFds, tellOldMaster, type LaunchContext } from '../arbiter/reexec.js'
import { notifyReady, takeNotifySocket, takeSocketActivation } from '../arbiter/systemd.js'
import { dirname, resolve as resolvePath } from 'node:path'
import { importAppModule, isModulePath, loadApp, splitAppSpec } from '../app/load.js'
import { startReloader } from '../arbiter/reloader.js'

// Before any --chdir: a master started by USR2 must resolve relative paths in argv as this one did.
const START_CWD = process.cwd()
/** this process is a master started by USR2 (it got PADDOCK_INHERITED_FDS and a channel to the old master) */
let startedByUsr2 = false

const SUBCOMMANDS: Record<string, { file: string; fn: string }> = {
  ctl: { file: './ctl.js', fn: 'runCtl' },
  dashboard: { file: './dashboard.js', fn: 'runDashboard' },
  load: { file: './load.js', fn: 'runLoad' },
}

function fail(err: unknown): never {
  process.stderr.write(`paddock: ${describeError(err)}\n`)
  // so that the old master can log why, in its own log (which may be a file)
  if (startedByUsr2) tellOldMaster({ t: 'paddock:master-failed', error: describeError(err) })
  process.exit(exitStatus(err))
}

export async function main(argv: string[]): Promise<void> {
  const sub = SUBCOMMANDS[argv[0] ?? '']
  if (sub) {
    const url = new URL(sub.file, import.meta.url)
    if (!existsSync(url)) fail(new PaddockError('PADDOCK_ERR_USAGE', `"paddock ${argv[0]}" is not available in this build`))
    const mod = (await import(url.href)) as Record<string, (a: string[]) => Promise<number>>
    process.exitCode = await mod[sub.fn](argv.slice(1))
    return
  }
  startedByUsr2 = process.env[INHERITED_FDS_ENV] !== undefined && typeof process.send === 'function'
  const oldMasterPid = process.ppid
  // Taken out of the environment before anything can fork, whatever the action.
  const notifySocket = takeNotifySocket()
  const activation = takeSocketActivation()
  let inherited: ArbiterOptions['inherited']
  let config: ResolvedConfig
  try {
    const fromMaster = takeInheritedFds()
    if (fromMaster) inherited = { from: 'usr2', listeners: fromMaster }
    else if (activation?.listeners.length) inherited = { from: 'systemd', listeners: activation.listeners }
    config = await resolveConfig(argv)
  } catch (err) {
    fail(err)
  }
  if (config.action === 'help') {
    process.stdout.write(helpText() + '\n')
    return
  }
  if (config.action === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))
    process.stdout.write(`paddock ${pkg.version}\n`)
    return
  }
  if (config.action === 'print') {
    process.stdout.write(JSON.stringify({ app: config.app, config: config.configFile, settings: config.settings, sources: config.sources }, null, 2) + '\n')
    return
  }
  if (!config.app) fail(new PaddockError('PADDOCK_ERR_USAGE', 'no app given: paddock [OPTIONS] MODULE[:EXPORT] (see paddock --help)'))
  const s = config.settings
  if (s.chdir) {
    try {
      process.chdir(String(s.chdir))
    } catch (err) {
      fail(new PaddockError('PADDOCK_ERR_CONFIG', `--chdir ${s.chdir}: ${describeError(err)}`))
    }
  }
  if (config.action === 'check') {
    try {
      await loadApp(config.app, { factory: s.factory === true, interface: String(s.interface) })
    } catch (err) {
      fail(err)
    }
    process.stdout.write(`configuration and app ${config.app} are valid\n`)
    return
  }
  // --preload: load the app here first so a broken app fails before any worker exists.
  // Without it, at least check that the module file is there.
  try {
    if (s.preload_app) await loadApp(config.app, { factory: s.factory === true, interface: String(s.interface) })
    else if (/^[./]/.test(config.app)) await checkModuleExists(config.app)
  } catch (err) {
    fail(err)
  }
  if (s.proc_name) process.title = `paddock: master [${s.proc_name}]`

  const launch: LaunchContext = {
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv.slice(1),
    cwd: START_CWD,
    env: notifySocket ? { NOTIFY_SOCKET: notifySocket } : undefined,
  }
  const arbiter = new Arbiter(config, {
    inherited,
    launch,
    // node flags given to paddock reach the workers, as with Node's cluster
    execArgv: workerExecArgv(process.execArgv),
    // While the channel is open the old master runs (a closed channel is its exit, or a kill -9).
    oldMasterPid: () => (startedByUsr2 && process.connected ? oldMasterPid : null),
  })
  installSignals(arbiter)
  if (activation?.warning) arbiter.log.warning(activation.warning)
  try {
    await arbiter.start()
  } catch (err) {
    // The failure is the one line the user needs; the shutdown itself is not news.
    arbiter.log.setLevel('critical')
    await arbiter.stop('quick').catch(() => {})
    fail(err)
  }
  if (startedByUsr2) tellOldMaster({ t: 'paddock:master-ready', pid: process.pid })
  if (notifySocket) void notifyReady(notifySocket).then((warning) => warning && arbiter.log.warning(warning))
  const hasControlPlane = !s.no_control_socket || Boolean(s.metrics_bind || s.statsd_host || s.dashboard || s.control_bind)
  if (startedByUsr2 && process.connected && hasControlPlane) {
    // The old master still holds the control socket path, the metrics port and the
    // dashboard: take them over once it has exited, so that an old master left alone by
    // a failed switch still has all of them.
    arbiter.log.info(`Control plane starts once the old master (pid ${oldMasterPid}) has exited`)
    process.once('disconnect', () => {
      const state = arbiter.snapshot().state
      if (state === 'stopping' || state === 'stopped') return
      arbiter.log.info(`The old master (pid ${oldMasterPid}) has exited: starting the control plane`)
      void startExtras(arbiter)
    })
  } else await startExtras(arbiter)
  if (s.reload) startDevReloader(arbiter, config)
}

/** --reload: a rolling reload on every saved change (see arbiter/reloader.ts). */
function startDevReloader(arbiter: Arbiter, config: ResolvedConfig): void {
  const s = config.settings
  if (s.preload_app) arbiter.log.warning('--reload with --preload: the master keeps the app it preloaded, so changes reach the workers but not the master')
  const { module } = splitAppSpec(config.app!)
  const root = isModulePath(module) ? dirname(resolvePath(module)) : process.cwd()
  const extraFiles = [...((s.reload_extra_files as string[] | undefined) ?? []), ...(config.configFile ? [config.configFile] : [])]
  const reloader = startReloader({
    root,
    extraFiles,
    onChange: (files) => {
      const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '')
      arbiter.log.info(`Reloading: ${shown} changed`)
      void arbiter.reload('file change').catch((err) => arbiter.log.error(describeError(err)))
    },
    onError: (err) => arbiter.log.warning(`--reload: cannot watch for changes: ${describeError(err)}`),
  })
  arbiter.log.info(`Watching ${root} for changes (--reload)`)
  arbiter.onEvent((e) => {
    if (e.type === 'arbiter.state' && (e.state === 'stopping' || e.state === 'stopped')) reloader.close()
  })
}

async function checkModuleExists(spec: string): Promise<void> {
  const { splitAppSpec } = await import('../app/load.js')
  const { module } = splitAppSpec(spec)
  const { resolve } = await import('node:path')
  if (!existsSync(resolve(module))) throw new PaddockError('PADDOCK_ERR_APP_NOT_FOUND', `app module not found: ${module} (looked for ${resolve(module)})`)
  void importAppModule
}

/** The control plane (control socket, metrics, dashboard) when it is part of this build. */
async function startExtras(arbiter: Arbiter): Promise<void> {
  const url = new URL('../control/index.js', import.meta.url)
  if (!existsSync(url)) return
  try {
    const mod = (await import(url.href)) as { startControlPlane?: (a: Arbiter, s: Record<string, unknown>) => Promise<{ close(): Promise<void> }> }
    if (mod.startControlPlane) {
      // --name names the control socket too (`paddock ctl --name NAME`); the setting is proc_name.
      const s = arbiter.config.settings
      const plane = await mod.startControlPlane(arbiter, { ...s, name: s.name ?? s.proc_name })
      arbiter.onEvent((e) => {
        if (e.type === 'arbiter.state' && e.state === 'stopped') void plane.close()
      })
    }
  } catch (err) {
    arbiter.log.error(`control plane failed to start: ${describeError(err)}`)
    // An operator who asked for a remote control endpoint must not get a server they cannot reach.
    if (arbiter.config.settings.control_bind) {
      arbiter.log.setLevel('critical')
      await arbiter.stop('quick').catch(() => {})
      fail(err)
    }
  }
}

function installSignals(arbiter: Arbiter): void {
  const exitAfter = (p: Promise<void>) =>
    p.then(
      () => process.exit(0),
      (err) => {
        arbiter.log.error(describeError(err))
        process.exit(1)
      },
    )
  process.on('SIGHUP', () => void arbiter.reload('HUP').catch((e) => arbiter.log.error(describeError(e))))
  process.on('SIGTTIN', () => {
    try {
      arbiter.addWorkers(1)
    } catch (err) {
      arbiter.log.warning(`TTIN refused: ${describeError(err)}`)
    }
  })
  process.on('SIGTTOU', () => arbiter.removeWorkers(1))
  process.on('SIGTERM', () => void exitAfter(arbiter.stop('graceful')))
  process.on('SIGINT', () => void exitAfter(arbiter.stop('quick')))
  process.on('SIGQUIT', () => void exitAfter(arbiter.stop('quick')))
  process.on('SIGUSR1', () => arbiter.reopenLogs())
  process.on('SIGUSR2', () => void arbiter.reexec())
  process.on('SIGWINCH', () => {
    // A terminal resize also sends WINCH: only act on it when detached from a terminal, as Gunicorn does.
    if (process.stdout.isTTY) return
    arbiter.log.info('Handling signal: winch: stopping all workers')
    void arbiter.stopWorkers()
  })
}
