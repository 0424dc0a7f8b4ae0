// What the benchmarks read from the OS: a process tree and its CPU time from /proc, a free
// loopback port, and "does it answer yet". Linux only, like the figures that use it.
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export const tickMs = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100)

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/** true once `GET path` on the port is answered with 200 */
export function answers200(port, path = '/') {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.setTimeout(2000, () => req.destroy())
  })
}

/** `rootPid` and every process below it, from /proc */
export function processTree(rootPid) {
  const parent = new Map()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8')
      parent.set(Number(d), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {}
  }
  const out = [rootPid]
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid)
  return out
}

/** user + system CPU of these processes (all their threads), in ms */
export function cpuMs(pids) {
  let ticks = 0
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(f[11]) + Number(f[12])
    } catch {}
  }
  return ticks * tickMs
}

/**
 * On-CPU time of these processes, all their live threads, in ms with ns precision (the first
 * field of /proc/<pid>/task/<tid>/schedstat). /proc/<pid>/stat counts in 10 ms ticks, which
 * cannot tell 1 ms/s from 3 ms/s over a 10 s idle window; threads that exit between two
 * reads are not counted here, so use it for trees whose threads live on (idle servers).
 */
export function cpuMsPrecise(pids) {
  let ns = 0
  for (const pid of pids) {
    let tids = []
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {}
    for (const tid of tids) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {}
    }
  }
  return ns / 1e6
}

/** resident set of one process, in MiB */
export function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

/** stop a child by its pid and wait for it */
export async function stop(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((res) => child.once('exit', res))
  child.kill(signal)
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await gone
  clearTimeout(t)
}

/**
 * One wrk run against `url` while the CPU of `rootPid`'s tree is counted: requests, req/s,
 * non-2xx answers, and CPU µs per request (master + workers + all their threads).
 */
export function wrkWithCpu(rootPid, wrkArgs, seconds, url) {
  const before = cpuMs(processTree(rootPid))
  const out = spawnSync('wrk', [...wrkArgs, `-d${seconds}s`, url], { encoding: 'utf8', timeout: (seconds + 30) * 1000 }).stdout ?? ''
  const spent = cpuMs(processTree(rootPid)) - before
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
  return {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    us: requests ? (spent * 1000) / requests : NaN,
  }
}
