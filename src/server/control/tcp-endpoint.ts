/**
 * The TCP control endpoint (`--control-bind HOST:PORT`): the same typed protocol and framing
 * as the Unix control socket, for `paddock ctl --remote` and the dashboard's Fleet view.
 * A Unix socket is guarded by file modes; TCP is not, so every connection must prove itself
 * before it reaches the ControlServer:
 *
 *   connect --(address blocked? close unread)--> [TLS handshake, client cert if --control-ca-certs]
 *     --> first frame: hello {token} within AUTH_TIMEOUT_MS, at most PRE_AUTH_FRAME_BYTES
 *     --> token compared in constant time --> ControlServer.subscribe (a subscriber like any other)
 *
 * Refused tokens are logged and limited per address (refusals.ts); failed TLS handshakes are
 * logged (a few a minute per address) but do not count toward that limit. The token is never
 * logged, and neither is anything the client sent.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { PaddockError } from '../errors.js'
import type { ControlServer } from './control-server.js'
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from './framing.js'
import { RefusalLimiter, type RefusalPolicy } from './refusals.js'

/** A token shorter than this is too easy to guess, even at a few tries a minute. */
export const MIN_TOKEN_CHARS = 16
const AUTH_TIMEOUT_MS = 5000
/** A hello is a few hundred bytes: nobody unauthenticated gets to make us buffer megabytes. */
const PRE_AUTH_FRAME_BYTES = 16 * 1024

export interface TcpEndpointOptions {
  bind: string
  tokenFile: string
  certFile?: string | null
  keyFile?: string | null
  caFile?: string | null
  log?: { warning(message: string): void; info(message: string): void }
  refusals?: RefusalPolicy
}

export interface TcpEndpoint {
  host: string
  port: number
  tls: boolean
  /** `HOST:PORT` (with `tls://` in front when TLS is on), as `paddock ctl --remote` takes it */
  address: string
  close(): Promise<void>
}

export function readToken(file: string): string {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new PaddockError('PADDOCK_ERR_CONFIG', `cannot read the control token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const token = text.trim()
  if (token.length < MIN_TOKEN_CHARS) throw new PaddockError('PADDOCK_ERR_CONFIG', `the control token in ${file} has ${token.length} characters; use at least ${MIN_TOKEN_CHARS} (for example: openssl rand -hex 32 > ${file})`)
  return token
}

/** Equal-length digests, so neither the content nor the length of the token leaks through timing. */
export function tokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false
  const a = crypto.createHash('sha256').update(given).digest()
  const b = crypto.createHash('sha256').update(expected).digest()
  return crypto.timingSafeEqual(a, b)
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (err) {
    throw new PaddockError('PADDOCK_ERR_CONFIG', `cannot read the control ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

export function splitHostPort(bind: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(bind.trim())
  if (!m || !m[1]) throw new PaddockError('PADDOCK_ERR_CONFIG', `expected HOST:PORT, got "${bind}"`)
  return { host: m[1], port: Number(m[2]) }
}

export async function startTcpEndpoint(control: Pick<ControlServer, 'subscribe'>, opts: TcpEndpointOptions): Promise<TcpEndpoint> {
  const token = readToken(opts.tokenFile)
  const { host, port } = splitHostPort(opts.bind)
  const useTls = Boolean(opts.certFile)
  const policy = opts.refusals ?? { maxRefused: 5, windowMs: 60_000 }
  const limiter = new RefusalLimiter(policy)
  const log = opts.log ?? { warning: (m: string) => process.stderr.write(`${m}\n`), info: () => {} }
  const conns = new Set<net.Socket>()

  const refuse = (peer: string, why: string) => {
    const v = limiter.refuse(peer)
    if (!v.log) return
    log.warning(`control endpoint: refused ${peer}: ${why}`)
    if (v.blockedNow) log.warning(`control endpoint: ${peer} was refused ${policy.maxRefused} times: its connections are dropped unread for ${limiter.blockedForSec(peer)} s`)
  }

  const serve = (sock: net.Socket) => {
    const peer = sock.remoteAddress ?? 'unknown'
    conns.add(sock)
    sock.on('close', () => conns.delete(sock))
    sock.on('error', () => {})
    const decoder = new FrameDecoder(PRE_AUTH_FRAME_BYTES)
    let session: ReturnType<ControlServer['subscribe']> | null = null
    const send = (frame: unknown) => {
      if (!sock.destroyed) sock.write(encodeFrame(frame))
    }
    const deny = (why: string, message: string) => {
      clearTimeout(timer)
      refuse(peer, why)
      send({ type: 'error', error: { code: 'PADDOCK_ERR_AUTH', message } })
      sock.end()
      sock.pause()
    }
    const timer = setTimeout(() => deny('no hello with a token in time', 'no hello with a token in time'), AUTH_TIMEOUT_MS)
    timer.unref()
    sock.on('close', () => {
      clearTimeout(timer)
      session?.close()
    })
    sock.on('data', (chunk) => {
      let frames: unknown[]
      try {
        frames = decoder.push(chunk)
      } catch (err) {
        if (!session) return deny('a frame that is not a hello', 'send hello with the control token first')
        send({ type: 'error', error: { code: 'PADDOCK_ERR_PROTOCOL', message: err instanceof FrameError ? err.message : 'bad frame' } })
        session.close()
        sock.end()
        sock.pause()
        return
      }
      for (const f of frames) {
        if (session) {
          void session.receive(f).catch(() => {})
          continue
        }
        const hello = f as { type?: unknown; token?: unknown }
        if (hello?.type !== 'hello') return deny('a frame that is not a hello', 'send hello with the control token first')
        if (!tokenMatches(hello.token, token)) return deny(hello.token === undefined ? 'no token' : 'wrong token', 'missing or wrong control token (see --control-token-file on the server)')
        clearTimeout(timer)
        decoder.setLimit(MAX_FRAME_BYTES)
        session = control.subscribe({ send, close: () => sock.end() })
        // the ControlServer never sees the token
        void session.receive({ ...hello, token: undefined }).catch(() => {})
      }
    })
  }

  const admit = (sock: net.Socket): boolean => {
    if (limiter.admits(sock.remoteAddress ?? 'unknown')) return true
    sock.destroy()
    return false
  }

  let server: net.Server
  if (useTls) {
    const ca = opts.caFile ? readPem(opts.caFile, 'CA bundle') : undefined
    server = tls.createServer({
      cert: readPem(opts.certFile!, 'certificate'),
      key: readPem(opts.keyFile!, 'key'),
      ca,
      requestCert: Boolean(ca),
      rejectUnauthorized: Boolean(ca),
      minVersion: 'TLSv1.2',
    }, serve)
    // admission before the handshake: a blocked address costs no TLS work
    server.on('connection', (sock: net.Socket) => void admit(sock))
    // A failed handshake (no client certificate, one from another CA, a client that does not
    // trust our certificate, plain TCP on a TLS port) does not count toward the token block:
    // it is no guess at the token, and a client certificate cannot be guessed either, so the
    // block would protect nothing and only lock out a misconfigured client for a minute, and
    // with it every other operator behind the same address (an SSH tunnel or `kubectl
    // port-forward` makes everyone 127.0.0.1). Its own limiter only keeps the log short.
    const handshakeLog = new RefusalLimiter(policy)
    server.on('tlsClientError', (err: Error & { code?: string }, sock: tls.TLSSocket) => {
      const peer = sock.remoteAddress ?? 'unknown'
      const v = handshakeLog.refuse(peer)
      if (!v.log) return
      log.warning(`control endpoint: refused ${peer}: TLS handshake failed (${err.code ?? err.message})`)
      if (v.blockedNow) log.warning(`control endpoint: ${peer} failed ${policy.maxRefused} TLS handshakes: further ones are not logged for ${handshakeLog.blockedForSec(peer)} s (they do not block its token attempts)`)
    })
  } else {
    server = net.createServer((sock) => {
      if (admit(sock)) serve(sock)
    })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new PaddockError('PADDOCK_ERR_BIND', `cannot listen on --control-bind ${opts.bind}: ${err.code ?? err.message}`)),
    )
    server.listen(port, host, () => resolve())
  })
  const bound = (server.address() as net.AddressInfo).port
  const shown = `${host.includes(':') ? `[${host}]` : host}:${bound}`
  log.info(`Control endpoint at ${useTls ? 'tls://' : ''}${shown}${opts.caFile ? ' (client certificates required)' : ''}`)
  return {
    host,
    port: bound,
    tls: useTls,
    address: `${useTls ? 'tls://' : ''}${shown}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy()
        server.close(() => resolve())
      }),
  }
}
