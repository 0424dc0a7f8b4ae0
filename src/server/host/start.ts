/**
 * startHostedServer: the engine as a dashboard hosts it (`paddock dashboard`, the desktop
 * app): a Host and its control plane, started from paddock's command-line options. Without
 * --bind it listens on 127.0.0.1:8000, or an ephemeral port when 8000 is taken; without an
 * app it serves the teaching demo app.
 */
import net from 'node:net'
import type { StopMode } from '../../shared/protocol.js'
import { resolveConfig } from '../config/resolve.js'
import { startControlPlane, type ControlPlane } from '../control/index.js'
import { Host } from './host.js'

export interface HostedServer {
  host: Host
  plane: ControlPlane
  /** Close the control plane, then stop the server. */
  close(mode?: StopMode): Promise<void>
}

/** 127.0.0.1:8000 when free, else a port the kernel picks: a second dashboard must not fail to start. */
async function defaultBind(preferred = 8000): Promise<string> {
  const free = await new Promise<boolean>((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(true)))
  })
  return `127.0.0.1:${free ? preferred : 0}`
}

/** argv: paddock options and an optional app module; demoApp: the module served when argv names none. */
export async function startHostedServer(opts: { argv: string[]; demoApp: string }): Promise<HostedServer> {
  const hasBind = opts.argv.some((a) => a === '-b' || a.startsWith('--bind'))
  const args = [...(hasBind ? [] : ['-b', await defaultBind()]), ...opts.argv]
  // Let the config parser say whether an app was given; fall back to the demo app.
  let config = await resolveConfig(args)
  if (!config.app) config = await resolveConfig([...args, opts.demoApp])
  // The host outlives a stop from the window: the operator can start the server again.
  const host = new Host(config)
  await host.start()
  // The control socket lets `paddock ctl` and other dashboards reach the hosted server too;
  // the browser dashboard is the caller's to serve (on its own port, or none in Electron).
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
