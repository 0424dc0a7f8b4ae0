/**
 * startControlPlane: what the serve path calls once the arbiter runs. Opens the
 * control socket (unless no_control_socket), Prometheus metrics, statsd, and
 * returns one close() for shutdown.
 */
import type { ArbiterApi } from '../arbiter/api.js'
import { checkControlEndpoint } from '../config/validate.js'
import { ControlServer } from './control-server.js'
import { startMetricsServer } from './metrics.js'
import { startStatsd } from './metrics.js'
import { startUnixSocket } from './unix-socket.js'
import { startWebServer } from './web-server.js'
import { startTcpEndpoint } from './tcp-endpoint.js'

export { ControlServer } from './control-server.js'
export { startUnixSocket, defaultSocketDir, defaultSocketPath } from './unix-socket.js'
export { startWebServer } from './web-server.js'
export { startTcpEndpoint } from './tcp-endpoint.js'
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
  control_bind?: string | null
  control_token_file?: string | null
  control_certfile?: string | null
  control_keyfile?: string | null
  control_ca_certs?: string | null
}

export interface ControlPlane {
  control: ControlServer
  socketPath: string | null
  metricsUrl: string | null
  dashboardUrl: string | null
  /** the TCP control endpoint, `HOST:PORT` or `tls://HOST:PORT` */
  controlAddress: string | null
  close(): Promise<void>
}

export async function startControlPlane(arbiter: ArbiterApi, settings: ControlPlaneSettings): Promise<ControlPlane> {
  const control = new ControlServer(arbiter)
  const closers: (() => unknown)[] = [() => control.close()]
  let socketPath: string | null = null
  let metricsUrl: string | null = null
  let dashboardUrl: string | null = null
  let controlAddress: string | null = null
  // the CLI's Arbiter has an error log; an in-process host may not
  const log = (arbiter as { log?: { warning(m: string): void; info(m: string): void } }).log
  try {
    if (settings.control_bind) {
      checkControlEndpoint(settings as Record<string, unknown>)
      const tcp = await startTcpEndpoint(control, {
        bind: settings.control_bind,
        tokenFile: settings.control_token_file!,
        certFile: settings.control_certfile,
        keyFile: settings.control_keyfile,
        caFile: settings.control_ca_certs,
        log,
      })
      controlAddress = tcp.address
      closers.push(() => tcp.close())
    }
    if (!settings.no_control_socket) {
      const sock = await startUnixSocket(control, { path: settings.control_socket ?? undefined, name: settings.name ?? undefined })
      socketPath = sock.path
      closers.push(() => sock.close())
    }
    if (settings.metrics_bind) {
      const m = await startMetricsServer(control, settings.metrics_bind)
      metricsUrl = m.url
      log?.info(`Metrics at ${m.url} (health at /healthz)`)
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
    controlAddress,
    close: async () => {
      for (const c of closers.reverse()) await c()
    },
  }
}
