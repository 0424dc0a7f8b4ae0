/**
 * Client side of the TCP control endpoint, for `paddock ctl --remote` and the dashboard's
 * relay: parse an address, connect (TLS when it says `tls://` or a CA bundle is given), and
 * find the token. The token goes in the hello frame, never in an address or a log line.
 */
import fs from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'

export interface RemoteTarget {
  host: string
  port: number
  tls: boolean
  /** as the user wrote it, for messages */
  label: string
}

export interface RemoteCredentials {
  token: string
  /** PEM CA bundle to verify the server's certificate with (default: Node's CA store) */
  ca?: string | Buffer
  /** client certificate and key, for an endpoint started with --control-ca-certs */
  cert?: string | Buffer
  key?: string | Buffer
}

export function parseRemote(address: string, forceTls = false): RemoteTarget {
  const raw = address.trim()
  const withTls = raw.startsWith('tls://')
  const rest = withTls ? raw.slice(6) : raw.replace(/^tcp:\/\//, '')
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/]+):(\d{1,5})$/.exec(rest)
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`"${address}" is not HOST:PORT (or tls://HOST:PORT)`)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), tls: withTls || forceTls, label: raw }
}

/** The token in a file, as the server reads its own: surrounding whitespace ignored. */
export function readTokenFile(file: string): string {
  const token = fs.readFileSync(file, 'utf8').trim()
  if (!token) throw new Error(`the token file ${file} is empty`)
  return token
}

/**
 * A client certificate and its key from PEM files (ctl --certfile/--keyfile, dashboard
 * --fleet-certfile/--fleet-keyfile), checked to belong together now rather than at the first
 * handshake, where the mismatch would look like the server's fault.
 */
export function readClientCert(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file)
    } catch (err) {
      throw new Error(`cannot read the client ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const cert = read(certFile, 'certificate')
  const key = read(keyFile, 'key')
  try {
    tls.createSecureContext({ cert, key })
  } catch (err) {
    throw new Error(`the client certificate ${certFile} and key ${keyFile} do not go together: ${(err as Error).message}`)
  }
  return { cert, key }
}

const CONNECT_TIMEOUT_MS = 10_000

export function connectRemote(target: RemoteTarget, creds: Omit<RemoteCredentials, 'token'> = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = target.tls
      ? tls.connect({
          host: target.host,
          port: target.port,
          ca: creds.ca,
          cert: creds.cert,
          key: creds.key,
          // SNI takes names only
          servername: net.isIP(target.host) ? undefined : target.host,
          minVersion: 'TLSv1.2',
        })
      : net.connect({ host: target.host, port: target.port })
    const timer = setTimeout(() => sock.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS)
    sock.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      sock.off('error', onError)
      resolve(sock)
    })
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(err)
    }
    sock.once('error', onError)
  })
}

/**
 * The server's TLS alert about our client certificate, in words. Under TLS 1.3 the server
 * checks the client's certificate after the client already counts itself connected, so this
 * arrives as an error on an open connection, not as a failed connect.
 */
export function describeClientCertAlert(err: NodeJS.ErrnoException, howToGive = 'pass --certfile FILE and --keyfile FILE'): string | null {
  const code = err.code ?? ''
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE/.test(code)) return `the server requires a client certificate (${code}): ${howToGive}`
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR)/.test(code)) {
    return `the server refused the client certificate (${code}): it must be signed by the CA in the server's --control-ca-certs`
  }
  return null
}

/** One line for a failed connection: the cause a person can act on. */
export function describeConnectError(target: RemoteTarget, err: NodeJS.ErrnoException): string {
  const alert = describeClientCertAlert(err)
  if (alert) return `cannot connect to ${target.label}: ${alert}`
  const code = err.code ?? ''
  if (code === 'ECONNREFUSED') return `cannot connect to ${target.label}: connection refused (is paddock running there with --control-bind?)`
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot connect to ${target.label}: unknown host ${target.host}`
  if (/CERT|SELF_SIGNED|ERR_TLS|UNABLE_TO/.test(code)) return `cannot connect to ${target.label}: the server's TLS certificate is not trusted (${code}); pass the CA that signed it with --ca-certs FILE`
  return `cannot connect to ${target.label}: ${err.message}`
}
