/**
 * The error log, in Gunicorn's shape: `[2026-11-24 10:00:00 +0000] [pid] [INFO] message`,
 * or with `--log-format json` one object a line: `{"time","level","pid","message"}`.
 * Written to stderr ('-') or a file (reopened on USR1), and handed to listeners so the
 * control plane can stream it as `log` events.
 */
import { openSync, writeSync, closeSync } from 'node:fs'
import type { LogLevel } from '../../shared/protocol.js'
import type { LogFormat } from './access.js'

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 }

export function logTimestamp(d = new Date()): string {
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0')
  const off = -d.getTimezoneOffset()
  const tz = `${off >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${tz}`
}

export type LogListener = (level: LogLevel, message: string, pid: number) => void

export class ErrorLog {
  private fd: number
  private level: number
  private readonly listeners = new Set<LogListener>()

  constructor(private target: string | null = '-', level: LogLevel = 'info', private format: LogFormat = 'text') {
    this.level = LEVELS[level]
    this.fd = this.open()
  }

  setFormat(format: LogFormat): void {
    this.format = format === 'json' ? 'json' : 'text'
  }

  private open(): number {
    if (!this.target || this.target === '-') return 2
    return openSync(this.target, 'a')
  }

  setLevel(level: LogLevel): void {
    this.level = LEVELS[level] ?? LEVELS.info
  }

  /** USR1: reopen the file so logrotate's rename takes effect. */
  reopen(target: string | null = this.target): void {
    const old = this.fd
    this.target = target
    this.fd = this.open()
    if (old > 2) closeSync(old)
  }

  onLine(listener: LogListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  log(level: LogLevel, message: string, pid = process.pid): void {
    for (const l of this.listeners) l(level, message, pid)
    if (LEVELS[level] < this.level) return
    const line = this.format === 'json'
      ? JSON.stringify({ time: new Date().toISOString(), level, pid, message }) + '\n'
      : `[${logTimestamp()}] [${pid}] [${level.toUpperCase()}] ${message}\n`
    try {
      writeSync(this.fd, line)
    } catch {
      // A closed stderr (daemonised, terminal gone) must never take the arbiter down.
    }
  }

  debug(m: string): void { this.log('debug', m) }
  info(m: string): void { this.log('info', m) }
  warning(m: string): void { this.log('warning', m) }
  error(m: string): void { this.log('error', m) }
  critical(m: string): void { this.log('critical', m) }
}
