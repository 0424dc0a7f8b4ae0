/**
 * `paddock load URL [options]`: the built-in load generator from the terminal.
 * Runs the same forked runner as the dashboard, so figures agree between the two.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { LoadOptions, LoadProgress, LoadResult } from '../../shared/protocol.js'
import { renderSvg, startLoad, urlProblem } from '../loadgen/index.js'
import { errorCount, evaluateThresholds, outcomeCount, parseThresholds, type Threshold } from '../loadgen/thresholds.js'

const USAGE =
  'usage: paddock load URL [-c N] [-d TIME | -n N] [-r RATE] [--warmup TIME] [--fail-on LIST] [--no-keep-alive] [-m METHOD] [-H "K: V"] [--body S] [--json FILE] [--svg FILE]'

/** Exit codes, for CI: 2 is a usage error (nothing was sent). */
export const EXIT = { ok: 0, allFailed: 1, usage: 2, threshold: 3 } as const

/** An achieved rate below this share of the target gets a warning. */
const RATE_SHORTFALL = 0.95

class UsageError extends Error {}

function posNumber(name: string, raw: string | undefined, int: boolean): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${int ? 'integer' : 'number'}, got "${raw}"`)
  return n
}

/** "10", "10s", "500ms", "2m" -> seconds. */
function seconds(name: string, raw: string | undefined, allowZero = false): number | undefined {
  if (raw === undefined) return undefined
  const m = /^([0-9]*\.?[0-9]+)(ms|s|m)?$/.exec(raw.trim())
  const n = m ? Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1) : NaN
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new UsageError(`--${name} must be a time such as 10, 10s or 500ms, got "${raw}"`)
  return n
}

export interface ParsedLoadArgs {
  options: LoadOptions
  json?: string
  svg?: string
  thresholds: Threshold[]
}

export function parseLoadArgs(argv: string[]): ParsedLoadArgs {
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
        warmup: { type: 'string' },
        'fail-on': { type: 'string' },
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
  const problem = urlProblem(url, false)
  if (problem) throw new UsageError(problem)
  const headers: Record<string, string> = {}
  for (const h of v.header ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) throw new UsageError(`header must look like "Name: value", got "${h}"`)
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim()
  }
  const amount = posNumber('amount', v.amount, true)
  const duration = seconds('duration', v.duration)
  if (amount && duration) throw new UsageError('give either --duration or --amount, not both')
  let thresholds: Threshold[] = []
  try {
    if (v['fail-on'] !== undefined) thresholds = parseThresholds(v['fail-on'])
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  const warmup = seconds('warmup', v.warmup, true)
  const options: LoadOptions = {
    url,
    method: v.method?.toUpperCase() ?? 'GET',
    connections: posNumber('connections', v.connections, true) ?? 10,
    ...(amount ? { amount } : { duration: duration ?? 10 }),
    rate: posNumber('rate', v.rate, false),
    keepAlive: !v['no-keep-alive'],
    timeout: seconds('timeout', v.timeout),
    ...(warmup ? { warmup } : {}),
    body: v.body,
    headers,
  }
  return { options, json: v.json, svg: v.svg, thresholds }
}

function progressLine(p: LoadProgress): string {
  if (p.warmingUp) return `warming up  ${p.elapsedSec.toFixed(1)}s of ${p.options.warmup}s (not counted)`
  const e = p.errors
  const errs = e.refused + e.reset + e.timeout + e.non2xx + e.other
  return `${(p.progress * 100).toFixed(0).padStart(3)}%  ${p.elapsedSec.toFixed(1)}s  ${p.requests} req  ${p.requestsPerSec} req/s  p50 ${p.latency.p50} ms  p99 ${p.latency.p99} ms  errors ${errs}`
}

export function formatSummary(r: LoadResult): string {
  const secs = Math.max(0.001, (r.finishedAt - r.startedAt) / 1000)
  const rate = r.options.rate
  const rows: [string, string][] = [
    ['requests', String(r.requests)],
    ['duration', `${secs.toFixed(2)} s${r.stoppedEarly ? ' (stopped early)' : ''}`],
    ['req/s (mean)', (r.requests / secs).toFixed(1)],
    ...(rate ? [['target req/s', String(rate)] as [string, string]] : []),
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
  const out = [line, ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v.padStart(10)}`), line]
  const causes = Object.entries(r.errorCauses ?? {}).sort((a, b) => b[1] - a[1])
  if (causes.length) out.push('errors by cause:', ...causes.map(([cause, n]) => `${String(n).padStart(10)}  ${cause}`))
  out.push(
    rate
      ? `latency is counted from the time each request was due (${rate} req/s open loop), so waiting for a connection counts`
      : 'latency is counted from each request\'s write (closed loop: a slow server also slows the client down)',
  )
  return out.join('\n')
}

/** Lines that explain why the run is not what was asked for; empty when nothing to say. */
export function warnings(r: LoadResult): string[] {
  const out: string[] = []
  const secs = Math.max(0.001, (r.finishedAt - r.startedAt) / 1000)
  const achieved = r.requests / secs
  const rate = r.options.rate
  if (rate && achieved < rate * RATE_SHORTFALL) {
    out.push(
      `warning: achieved ${achieved.toFixed(1)} req/s of the ${rate} req/s target (${((achieved / rate) * 100).toFixed(0)}%): ` +
        `the server or ${r.options.connections} connections could not keep up; the requests waiting for their turn are in the latency`,
    )
  }
  if (outcomeCount(r) === 0) out.push('no request completed: nothing answered and no error came back')
  else if (r.requests - r.errors.non2xx === 0) {
    const answers = Object.entries(r.statusCodes).map(([code, n]) => `${n} × ${code}`)
    out.push(`every request failed: no 2xx answer in ${errorCount(r)} outcomes${answers.length ? ` (answers: ${answers.join(', ')})` : ''}`)
  }
  return out
}

const HELP = `${USAGE}

  URL                 http(s) URL to load, e.g. http://127.0.0.1:8000/io?ms=100
  -c, --connections N concurrent connections (default 10)
  -d, --duration TIME run for TIME (10, 10s, 500ms, 2m; default 10 s)
  -n, --amount N      or stop after N requests
  -r, --rate RATE     open loop: RATE requests per second in total, request k due at
                      start + k/RATE; latency counts from that due time, so a server
                      that falls behind shows its queueing delay (no coordinated
                      omission). The summary prints the achieved rate against RATE
                      and warns when it falls short
      --warmup TIME   send load for TIME first without counting it (e.g. 2s)
      --fail-on LIST  exit 3 when a condition holds, e.g. p99>200ms,errors>1%
                      (p50 p90 p99 max mean in ms or s; errors as a count or %;
                      rps in req/s; comparisons > >= < <=)
      --no-keep-alive a new connection per request
  -m, --method M      HTTP method (default GET)
  -H, --header "K: V" extra request header (repeatable)
      --body S        request body
  -t, --timeout TIME  a request slower than this counts as a timeout (default 10 s)
      --json FILE     write the full result as JSON
      --svg FILE      write a chart of the run as SVG

exit status: 0 done; 1 every request failed (the summary names the causes);
2 bad arguments or target (nothing sent); 3 a --fail-on condition held.
More in docs/load.md.
`

export async function runLoad(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP)
    return EXIT.ok
  }
  let parsed: ParsedLoadArgs
  try {
    parsed = parseLoadArgs(argv)
  } catch (e) {
    process.stderr.write(`paddock load: ${(e as Error).message}\n`)
    return EXIT.usage
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
  const o = r.options
  process.stdout.write(
    `${o.method ?? 'GET'} ${o.url}  ${o.connections} connections${o.keepAlive ? '' : ', no keep-alive'}${o.rate ? `, ${o.rate} req/s open loop` : ''}${o.warmup ? `, ${o.warmup} s warm-up not counted` : ''}\n`,
  )
  process.stdout.write(formatSummary(r) + '\n')
  if (parsed.json) writeFileSync(parsed.json, JSON.stringify(r, null, 2))
  if (parsed.svg) writeFileSync(parsed.svg, renderSvg(r))
  const warned = warnings(r)
  for (const w of warned) process.stderr.write(`paddock load: ${w}\n`)
  if (r.requests - r.errors.non2xx === 0) return EXIT.allFailed
  const crossed = evaluateThresholds(r, parsed.thresholds).filter((t) => t.crossed)
  for (const t of crossed) process.stderr.write(`paddock load: --fail-on ${t.threshold.text} crossed: ${t.message}\n`)
  return crossed.length ? EXIT.threshold : EXIT.ok
}
