/**
 * `paddock [OPTIONS] MODULE[:EXPORT]` and its subcommands (ctl, dashboard, load).
 * Every user error is one line on stderr, `paddock: ...`, and a non-zero exit.
 */
import { readFileSync, existsSync } from 'node:fs'
import { describeError, isPaddockError, PaddockError } from '../errors.js'
import { resolveConfig, helpText, type ResolvedConfig } from '../config/resolve.js'
import { Arbiter } from '../arbiter/arbiter.js'
import { importAppModule, loadApp } from '../app/load.js'

const SUBCOMMANDS: Record<string, { file: string; fn: string }> = {
  ctl: { file: './ctl.js', fn: 'runCtl' },
  dashboard: { file: './dashboard.js', fn: 'runDashboard' },
  load: { file: './load.js', fn: 'runLoad' },
}

function fail(err: unknown): never {
  process.stderr.write(`paddock: ${describeError(err)}\n`)
  const code = isPaddockError(err) ? (err.code === 'PADDOCK_ERR_USAGE' || err.code === 'PADDOCK_ERR_CONFIG' ? 2 : err.code === 'PADDOCK_ERR_BOOT' || err.code.startsWith('PADDOCK_ERR_APP') ? 4 : 1) : 1
  process.exit(code)
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
  let config: ResolvedConfig
  try {
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

  const arbiter = new Arbiter(config)
  installSignals(arbiter)
  try {
    await arbiter.start()
  } catch (err) {
    // The failure is the one line the user needs; the shutdown itself is not news.
    arbiter.log.setLevel('critical')
    await arbiter.stop('quick').catch(() => {})
    fail(err)
  }
  await startExtras(arbiter)
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
      const plane = await mod.startControlPlane(arbiter, arbiter.config.settings)
      arbiter.onEvent((e) => {
        if (e.type === 'arbiter.state' && e.state === 'stopped') void plane.close()
      })
    }
  } catch (err) {
    arbiter.log.error(`control plane failed to start: ${describeError(err)}`)
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
  process.on('SIGTTIN', () => arbiter.addWorkers(1))
  process.on('SIGTTOU', () => arbiter.removeWorkers(1))
  process.on('SIGTERM', () => void exitAfter(arbiter.stop('graceful')))
  process.on('SIGINT', () => void exitAfter(arbiter.stop('quick')))
  process.on('SIGQUIT', () => void exitAfter(arbiter.stop('quick')))
  process.on('SIGUSR1', () => arbiter.reopenLogs())
  process.on('SIGUSR2', () => arbiter.log.warning('USR2 (re-exec the master) is not supported yet; use HUP for a zero-downtime reload'))
  process.on('SIGWINCH', () => {
    // A terminal resize also sends WINCH: only act on it when detached from a terminal, as Gunicorn does.
    if (process.stdout.isTTY) return
    arbiter.log.info('Handling signal: winch: stopping all workers')
    void arbiter.stopWorkers()
  })
}
