/**
 * --capture-output (Gunicorn's): a worker's stdout and stderr (its app's console.log, and
 * its gthread threads', which Node sends through the process's own stdout) come to the
 * master through pipes and go to the error log, one log line per output line, with the
 * worker's pid: so they land where the operator looks, as text or JSON, and in the
 * dashboard's logs view.
 */
import type { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import type { LogLevel } from '../../shared/protocol.js'

/** a line longer than this is cut into several log lines rather than held without end */
const MAX_LINE = 16 * 1024

export function captureLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return
  const decoder = new StringDecoder('utf8')
  let pending = ''
  const flush = (text: string) => {
    pending += text
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, nl).replace(/\r$/, ''))
      pending = pending.slice(nl + 1)
    }
    while (pending.length > MAX_LINE) {
      onLine(pending.slice(0, MAX_LINE))
      pending = pending.slice(MAX_LINE)
    }
  }
  stream.on('data', (chunk: Buffer) => flush(decoder.write(chunk)))
  stream.on('end', () => {
    flush(decoder.end())
    if (pending) onLine(pending)
    pending = ''
  })
  stream.on('error', () => {})
}

/** stdout lines are `info`, stderr lines `error` (console.error, console.warn, uncaught traces) */
export function captureWorkerOutput(
  child: { stdout: Readable | null; stderr: Readable | null },
  log: (level: LogLevel, line: string) => void,
): void {
  captureLines(child.stdout, (line) => log('info', line))
  captureLines(child.stderr, (line) => log('error', line))
}
