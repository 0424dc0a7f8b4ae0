/**
 * What the desktop app hosts, without Electron: the engine (a Host with its control plane)
 * started like `paddock dashboard` would, so it is tested under plain Node.
 *
 * The engine is loaded at run time from its compiled directory (dist/server), never bundled
 * into main: it forks its workers and binder from files beside it.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Host } from '../server/host/host.js'
import type { ControlPlane } from '../server/control/index.js'

export interface Hosting {
  host: Host
  plane: ControlPlane
  close(mode?: 'graceful' | 'quick'): Promise<void>
}

/**
 * argv: paddock options and an optional app module (as after `--` on the command line).
 * Without an app, the teaching demo app is served.
 */
export async function startHosting(opts: { engineDir: string; demoApp: string; argv: string[] }): Promise<Hosting> {
  const load = <T>(rel: string) => import(pathToFileURL(path.join(opts.engineDir, rel)).href) as Promise<T>
  const { resolveConfig } = await load<typeof import('../server/config/resolve.js')>('config/resolve.js')
  const { Host: HostClass } = await load<typeof import('../server/host/host.js')>('host/host.js')
  const { startControlPlane } = await load<typeof import('../server/control/index.js')>('control/index.js')
  const { defaultBind } = await load<typeof import('../server/cli/dashboard.js')>('cli/dashboard.js')
  const hasBind = opts.argv.some((a) => a === '-b' || a.startsWith('--bind'))
  const args = [...(hasBind ? [] : ['-b', await defaultBind()]), ...opts.argv]
  let config = await resolveConfig(args)
  if (!config.app) config = await resolveConfig([...args, opts.demoApp])
  const host = new HostClass(config)
  await host.start()
  // the control socket lets `paddock ctl` and other dashboards reach the desktop-hosted server too
  const plane = await startControlPlane(host, { ...(config.settings as Record<string, never>), dashboard: false })
  return {
    host,
    plane,
    async close(mode = 'graceful') {
      await plane.close()
      await host.stop(mode)
    },
  }
}
