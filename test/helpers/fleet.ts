/**
 * Several paddock servers on separate loopback addresses (127.0.0.2, 127.0.0.3, ...), each
 * with its TCP control endpoint, as a fleet on one machine. Started and stopped through
 * proc.ts, so every process is tracked by pid.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPaddock, waitForWorkers, type Paddock } from './proc.js'

export interface FleetServer {
  paddock: Paddock
  host: string
  port: number
  /** HOST:PORT of the control endpoint (tls:// in front with TLS) */
  control: string
  tokenFile: string
  token: string
  metricsPort: number | null
}

export function tokenFile(dir = mkdtempSync(join(tmpdir(), 'paddock-tok-'))): { file: string; token: string } {
  const token = randomBytes(24).toString('hex')
  const file = join(dir, 'token')
  writeFileSync(file, token + '\n', { mode: 0o600 })
  return { file, token }
}

export async function startFleetServer(
  host: string,
  app: string,
  opts: { workers?: number; extra?: string[]; token?: { file: string; token: string }; metrics?: boolean } = {},
): Promise<FleetServer> {
  const tok = opts.token ?? tokenFile()
  const args = [
    '-b', `${host}:0`, '-w', String(opts.workers ?? 2), '--no-control-socket',
    '--control-bind', `${host}:0`, '--control-token-file', tok.file,
    ...(opts.metrics ? ['--metrics-bind', `${host}:0`] : []),
    ...(opts.extra ?? []),
    app,
  ]
  const paddock = await startPaddock(args, { bind: false })
  const [, control] = await paddock.waitFor(/Control endpoint at (\S+)/)
  const metricsPort = opts.metrics ? Number((await paddock.waitFor(/Metrics at http:\/\/[^:]+:(\d+)\//))[1]) : null
  await waitForWorkers(paddock, opts.workers ?? 2)
  return { paddock, host, port: paddock.port, control: control!, tokenFile: tok.file, token: tok.token, metricsPort }
}
