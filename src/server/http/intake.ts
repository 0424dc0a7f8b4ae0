/**
 * What happens to an accepted connection before HTTP: the PROXY header, then TLS, then the
 * worker class's http.Server. Every class gets its connections through here, so all of them
 * serve PROXY and TLS alike.
 *
 *   listener ─ raw socket ─> [PROXY header: client address]  proxy_protocol, proxy_allow_from
 *                          ─> [TLS handshake: tls.Server, not listening]  certfile, ...
 *                          ─> http.Server 'connection'  (the TLSSocket, or the raw socket)
 *
 * The connection counts for the accept limit from the moment it is accepted (kAdmitted, in
 * classes/accept.ts), so a sync worker in the middle of a handshake is busy, and both steps
 * are bounded by the header timeout: a client that never finishes them is closed.
 * With neither PROXY nor TLS configured the raw socket goes straight to the server.
 */
import type http from 'node:http'
import type { Socket } from 'node:net'
import tls from 'node:tls'
import { isTrusted } from './proxy.js'
import { peekForProxyHeader, readProxyHeader, type ProxiedClient, type ProxyMode } from './proxy-protocol.js'
import { finalTlsOptions, tlsEnabled, type SslContextHook } from './tls.js'
import { kAdmitted, kClient } from '../symbols.js'
import type { LogLevel } from '../../shared/protocol.js'

export interface IntakeOptions {
  log(level: LogLevel, message: string): void
  /** the config file's ssl_context hook, if any */
  sslContext?: SslContextHook
}

export type Intake = (raw: Socket) => void

export function proxyMode(settings: Record<string, unknown>): ProxyMode | null {
  const v = String(settings.proxy_protocol ?? 'off')
  return v === 'v1' || v === 'v2' || v === 'auto' ? v : null
}

export function createIntake(server: http.Server, settings: Record<string, unknown>, o: IntakeOptions): Intake {
  const mode = proxyMode(settings)
  const useTls = tlsEnabled(settings)
  if (!mode && !useTls) return (raw) => server.emit('connection', raw)
  const timeoutMs = Number(settings.header_timeout ?? 10) * 1000 || 10_000
  const allow = String(settings.proxy_allow_from ?? '127.0.0.1,::1')

  let handOver: Intake = (raw) => server.emit('connection', raw)
  if (useTls) {
    const tlsServer = tls.createServer({ ...finalTlsOptions(settings, o.sslContext), handshakeTimeout: timeoutMs })
    tlsServer.on('secureConnection', (secure: tls.TLSSocket) => {
      // the address from a PROXY header was set on the raw socket; the TLS socket asks the kernel
      const client = (secure as tls.TLSSocket & { _parent?: Socket & { [kClient]?: ProxiedClient } })._parent?.[kClient]
      if (client) setClient(secure, client)
      server.emit('connection', secure)
    })
    // A failed or timed-out handshake (plain HTTP sent to this port, a client that stops
    // half-way, a refused client certificate): Node leaves the socket to this listener.
    tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      o.log('debug', `TLS handshake with ${socket.remoteAddress ?? 'a client'} failed: ${err.code ?? err.message}`)
      socket.destroy()
    })
    handOver = (raw) => tlsServer.emit('connection', raw)
  }
  if (!mode) {
    return (raw) => {
      admit(server, raw)
      handOver(raw)
    }
  }
  return (raw) => {
    admit(server, raw)
    if (!isTrusted(raw.remoteAddress, allow)) {
      // not a proxy we take headers from: served as it is, unless it sends one
      return peekForProxyHeader(raw, timeoutMs, (sentHeader) => {
        if (!sentHeader) return handOver(raw)
        o.log('debug', `closed a connection from ${raw.remoteAddress}: a PROXY header from a peer not in proxy_allow_from`)
        raw.destroy()
      })
    }
    readProxyHeader(raw, mode, timeoutMs, (r) => {
      if ('error' in r) {
        o.log('debug', `closed a connection from ${raw.remoteAddress}: ${r.error}`)
        return raw.destroy()
      }
      if (r.client) setClient(raw, r.client)
      handOver(raw)
    })
  }
}

/** classes/accept.ts counts the connection from now on */
function admit(server: http.Server, raw: Socket): void {
  ;(server as unknown as NodeJS.EventEmitter).emit(kAdmitted, raw)
}

/**
 * The client the proxy named becomes the socket's peer for everyone above: the app
 * (`req.socket.remoteAddress`), the access log's `h`, forwarded_allow_ips, gthread's threads.
 * Own properties shadow net.Socket's getters, which would ask the kernel.
 */
function setClient(socket: Socket & { [kClient]?: ProxiedClient }, client: ProxiedClient): void {
  socket[kClient] = client
  Object.defineProperty(socket, 'remoteAddress', { value: client.address, configurable: true })
  Object.defineProperty(socket, 'remotePort', { value: client.port, configurable: true })
  Object.defineProperty(socket, 'remoteFamily', { value: client.family, configurable: true })
}
