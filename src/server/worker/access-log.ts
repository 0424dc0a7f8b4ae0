/**
 * The worker's access log: every line is written by the worker that answered, straight to
 * the file (no hop through the master), in text or JSON (`--log-format`). Reopened on USR1
 * or the master's `reopen-logs`, so logrotate's rename takes effect.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import type http from 'node:http'
import type { Socket } from 'node:net'
import { formatAccessLog, type AccessAtoms, type LogFormat } from '../log/access.js'

export class AccessLog {
  private fd: number | null = null
  private readonly format: string
  private readonly as: LogFormat

  constructor(private readonly settings: Record<string, unknown>) {
    this.format = String(settings.access_log_format)
    this.as = settings.log_format === 'json' ? 'json' : 'text'
  }

  get on(): boolean {
    return this.fd !== null
  }

  reopen(): void {
    const target = this.settings.accesslog as string | null
    if (this.fd !== null && this.fd > 2) closeSync(this.fd)
    this.fd = !target ? null : target === '-' ? 1 : openSync(target, 'a')
  }

  request(startedAt: number, req: http.IncomingMessage, res: http.ServerResponse, bytes: number): void {
    this.write({
      remoteAddress: req.socket.remoteAddress ?? '-',
      method: req.method ?? '-',
      url: req.url ?? '-',
      httpVersion: req.httpVersion,
      status: res.statusCode,
      bytes,
      durationMs: Date.now() - startedAt,
      pid: process.pid,
      at: new Date(startedAt),
      requestHeaders: req.headers,
      responseHeaders: res.getHeaders(),
      scheme: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    })
  }

  /**
   * A request the parser refused (a control byte in the path, a broken header): it never
   * reached the app, but the operator still sees it, with its request line as sent (the
   * text format escapes the bytes, JSON.stringify does for JSON).
   */
  rejected(socket: Socket, status: number, rawHead: Buffer): void {
    if (this.fd === null) return
    const line = rawHead.subarray(0, 8192).toString('latin1').split('\r\n', 1)[0]!
    const [method = '-', url = '-', version = ''] = line.split(' ')
    this.write({
      remoteAddress: socket.remoteAddress ?? '-',
      method,
      url,
      httpVersion: version.replace(/^HTTP\//, '') || '1.1',
      status,
      bytes: 0,
      durationMs: 0,
      pid: process.pid,
      at: new Date(),
      requestHeaders: {},
      responseHeaders: {},
      scheme: (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    })
  }

  private write(atoms: AccessAtoms): void {
    if (this.fd === null) return
    try {
      writeSync(this.fd, formatAccessLog(this.format, atoms, this.as) + '\n')
    } catch {
      // a full disk must not fail the request
    }
  }
}
