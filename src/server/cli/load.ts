/**
 * `paddock load URL [options]`: the built-in load generator from the terminal.
 * Runs the same forked runner as the dashboard, so figures agree between the two.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { LoadOptions, LoadProgress, LoadResult } from '../../shared/protocol.js'
import { renderSvg, startLoad } from '../loadgen/index.js'

const USAGE = 'usage: paddock load URL [-c N] [-d SEC | -n N] [-r RATE] [--no-keep-alive] [-m METHOD] [-H "K: V"] [--body S] [--json FILE] [--svg FILE]'

class UsageError extends Error {}

function posNumber(name: string, raw: string | undefined, int: boolean): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${int ? 'integer' : 'number'}, got "${raw}"`)
  return n
}

export function parseLoadArgs(argv: string[]): { options: LoadOptions; json?: string; svg?: string } {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        connections: { type: 'string', short: 'c' },
        duration: { type: 'string', short: 'd' },
        amount: { type: 'string', short: 'n' },
        rate: { type: 'string', short: 'r' },
        'no-keep-alive': { type: 'boolean' },
        method: { type: 'string', short: 'm' },
        header: { type: 'string', short: 'H', multiple: true },
        body: { type: 'string' },
        timeout: { type: 'string', short: 't' },
        json: { type: 'string' },
        svg: { type: 'string' },
      },
    })
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0])
  }
  const v = parsed.values
  if (parsed.positionals.length !== 1) throw new UsageError(USAGE)
  const url = parsed.positionals[0]
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`not a valid URL: "${url}" (example: http://127.0.0.1:8000/)`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`URL must be http:// or https://, got "${url}"`)
  const headers: Record<string, string> = {}
  for (const h of v.header ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) throw new UsageError(`header must look like "Name: value", got "${h}"`)
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim()
  }
  const amount = posNumber('amount', v.amount, true)
  const duration = posNumber('duration', v.duration, false)
  if (amount && duration) throw new UsageError('give either --duration or --amount, not both')
  const options: LoadOptions = {
    url,
    method: v.method?.toUpperCase() ?? 'GET',
    connections: posNumber('connections', v.connections, true) ?? 10,
    ...(amount ? { amount } : { duration: duration ?? 10 }),
    rate: posNumber('rate', v.rate, false),
    keepAlive: !v['no-keep-alive'],
    timeout: posNumber('timeout', v.timeout, false),
    body: v.body,
    headers,
  }
  return { options, json: v.json, svg: v.svg }
}

function progressLine(p: LoadProgress): string {
  const e = p.errors
  const errs = e.refused + e.reset + e.timeout + e.non2xx + e.other
  return `${(p.progress * 100).toFixed(0).padStart(3)}%  ${p.elapsedSec.toFixed(1)}s  ${p.requests} req  ${p.requestsPerSec} req/s  p50 ${p.latency.p50} ms  p99 ${p.latency.p99} ms  errors ${errs}`
}

export function formatSummary(r: LoadResult): string {
  const secs = Math.max(0.001, (r.finishedAt - r.startedAt) / 1000)
  const rows: [string, string][] = [
    ['requests', String(r.requests)],
    ['duration', `${secs.toFixed(2)} s${r.stoppedEarly ? ' (stopped early)' : ''}`],
    ['req/s (mean)', (r.requests / secs).toFixed(1)],
    ['latency p50', `${r.latency.p50} ms`],
    ['latency p90', `${r.latency.p90} ms`],
    ['latency p99', `${r.latency.p99} ms`],
    ['latency max', `${r.latency.max} ms`],
    ['latency mean', `${r.latency.mean} ms`],
    ...Object.entries(r.errors).map(([k, n]) => [`errors ${k}`, String(n)] as [string, string]),
    ...Object.entries(r.statusCodes).map(([k, n]) => [`status ${k}`, String(n)] as [string, string]),
  ]
  const w = Math.max(...rows.map(([k]) => k.length))
  const line = '─'.repeat(w + 14)
  return [line, ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v.padStart(10)}`), line].join('\n')
}

const HELP = `${USAGE}

  URL                 http(s) URL to load, e.g. http://127.0.0.1:8000/io?ms=100
  -c, --connections N concurrent connections (default 10)
  -d, --duration SEC  run for SEC seconds (default 10)
  -n, --amount N      or stop after N requests
  -r, --rate RATE     open loop: RATE requests per second in total (no coordinated omission)
      --no-keep-alive a new connection per request
  -m, --method M      HTTP method (default GET)
  -H, --header "K: V" extra request header (repeatable)
      --body S        request body
  -t, --timeout SEC   a request slower than this counts as a timeout (default 10)
      --json FILE     write the full result as JSON
      --svg FILE      write a chart of the run as SVG
`

export async function runLoad(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP)
    return 0
  }
  let parsed
  try {
    parsed = parseLoadArgs(argv)
  } catch (e) {
    process.stderr.write(`paddock load: ${(e as Error).message}\n`)
    return 2
  }
  const tty = process.stdout.isTTY === true
  let lastPrint = 0
  const handle = startLoad(parsed.options, (p) => {
    // A TTY gets one line rewritten in place; logs and pipes get a line per second.
    if (tty) process.stdout.write(`\r\x1b[K${progressLine(p)}`)
    else if (Date.now() - lastPrint >= 1000) {
      lastPrint = Date.now()
      process.stdout.write(progressLine(p) + '\n')
    }
  })
  const onSig = () => handle.stop()
  process.on('SIGINT', onSig)
  const r = await handle.done
  process.off('SIGINT', onSig)
  if (tty) process.stdout.write('\r\x1b[K')
  process.stdout.write(`${r.options.method ?? 'GET'} ${r.options.url}  ${r.options.connections} connections${r.options.keepAlive ? '' : ', no keep-alive'}${r.options.rate ? `, ${r.options.rate} req/s open loop` : ''}\n`)
  process.stdout.write(formatSummary(r) + '\n')
  if (parsed.json) writeFileSync(parsed.json, JSON.stringify(r, null, 2))
  if (parsed.svg) writeFileSync(parsed.svg, renderSvg(r))
  return 0
}
