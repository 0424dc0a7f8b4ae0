/**
 * Where load goes, checked before any process is forked: a target that cannot work
 * (`nope`, `htp://x`, a port out of range) is refused at once with the reason, instead
 * of a run that reports "other 25" and no cause.
 */
import type { ArbiterApi } from '../arbiter/api.js'
import { PaddockError } from '../errors.js'
import type { LoadOptions } from '../../shared/protocol.js'

/**
 * Why `url` cannot be loaded, or null when it is a usable absolute http(s) URL.
 * `paths`: the caller resolves `/path` against a served app (the dashboard), so the
 * message may suggest one; the CLI has no app to resolve against.
 */
export function urlProblem(url: string, paths = true): string | null {
  // "localhost:8000/x" parses as a URL with the scheme "localhost:"
  if (/^[\w.-]+:\d+(\/|$)/.test(url)) return `"${url}" has no scheme: write http://${url}`
  let u: URL
  try {
    u = new URL(url)
  } catch {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return `"${url}" is not a valid URL (check the host, and the port: 1 to 65535)`
    if (!url.startsWith('/')) {
      return paths
        ? `"${url}" is neither a URL nor a path: write a path with a leading slash (/${url}) or a full URL (http://127.0.0.1:8000/${url})`
        : `"${url}" is not a URL: write a full URL such as http://127.0.0.1:8000/${url}`
    }
    return `"${url}" is a path: give a full URL such as http://127.0.0.1:8000${url}`
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${url}" is not http:// or https://`
  if (!u.hostname) return `"${url}" names no host`
  return null
}

/**
 * Resolve a path such as `/io?ms=100` against the arbiter's first TCP listener, and
 * check the result. Throws PADDOCK_ERR_INVALID_VALUE with a message a user can act on.
 */
export function resolveUrl(url: string, api: ArbiterApi): string {
  let full = url
  if (url.startsWith('/')) {
    const l = api.snapshot().listeners.find((x) => x.kind === 'tcp' && x.port)
    if (!l) throw new PaddockError('PADDOCK_ERR_STATE', 'no TCP listener to send load to; give a full URL')
    const host = l.host && l.host.includes(':') ? `[${l.host}]` : l.host === '0.0.0.0' || !l.host ? '127.0.0.1' : l.host
    full = `http://${host}:${l.port}${url}`
  }
  const problem = urlProblem(full)
  if (problem) throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', problem)
  return full
}

/** Options the runner cannot honour, as one message; null when they are fine. */
export function optionsProblem(o: LoadOptions): string | null {
  const url = urlProblem(o.url)
  if (url) return url
  if (o.warmup !== undefined && !(Number.isFinite(o.warmup) && o.warmup >= 0 && o.warmup <= 3600)) return 'warmup must be from 0 to 3600 seconds'
  if (o.rate !== undefined && !(Number.isFinite(o.rate) && o.rate > 0)) return 'rate must be a positive number of requests per second'
  return null
}
