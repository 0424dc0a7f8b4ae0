/**
 * startControlPlane: what the serve path calls once the arbiter runs. Opens the
 * control socket (unless no_control_socket), Prometheus metrics, statsd, and
 * returns one close() for shutdown.
 */
import type { ArbiterApi } from '../arbiter/api.js'
import { ControlServer } from './control-server.js'
import { startMetricsServer } from './metrics.js'
import { startStatsd } from './metrics.js'
import { startUnixSocket } from './unix-socket.js'
import { startWebServer } from './web-server.js'

export { ControlServer } from './control-server.js'
export { startUnixSocket, defaultSocketDir, defaultSocketPath } from './unix-socket.js'
export { startWebServer } from './web-server.js'
export { prometheusText, startMetricsServer, startStatsd } from './metrics.js'

export interface ControlPlaneSettings {
  name?: string | null
  control_socket?: string | null
  no_control_socket?: boolean
  metrics_bind?: string | null
  statsd_host?: string | null
  statsd_prefix?: string
  dogstatsd_tags?: string
  dashboard?: boolean
}

export interface ControlPlane {
  control: ControlServer
  socketPath: string | null
  metricsUrl: string | null
  dashboardUrl: string | null
  close(): Promise<void>
}

export async function startControlPlane(arbiter: ArbiterApi, settings: ControlPlaneSettings): Promise<ControlPlane> {
  const control = new ControlServer(arbiter)
  const closers: (() => unknown)[] = [() => control.close()]
  let socketPath: string | null = null
  let metricsUrl: string | null = null
  let dashboardUrl: string | null = null
  try {
    if (!settings.no_control_socket) {
      const sock = await startUnixSocket(control, { path: settings.control_socket ?? undefined, name: settings.name ?? undefined })
      socketPath = sock.path
      closers.push(() => sock.close())
    }
    if (settings.metrics_bind) {
      const m = await startMetricsServer(control, settings.metrics_bind)
      metricsUrl = m.url
      closers.push(() => m.close())
    }
    if (settings.statsd_host) {
      const s = startStatsd(control, { host: settings.statsd_host, prefix: settings.statsd_prefix, tags: settings.dogstatsd_tags })
      closers.push(() => s.close())
    }
    if (settings.dashboard) {
      const web = await startWebServer(control)
      dashboardUrl = web.url
      // the token is the credential: print it to the terminal of whoever started the server
      process.stderr.write(`paddock dashboard: ${web.url}\n`)
      closers.push(() => web.close())
    }
  } catch (err) {
    for (const c of closers.reverse()) await c()
    throw err
  }
  return {
    control,
    socketPath,
    metricsUrl,
    dashboardUrl,
    close: async () => {
      for (const c of closers.reverse()) await c()
    },
  }
}
