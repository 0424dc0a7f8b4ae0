/**
 * How many CPUs this process may really use: `os.availableParallelism()` (the affinity
 * mask), lowered by a cgroup CPU quota. In a container with `resources.limits.cpu: 2` on
 * a 64-core node, availableParallelism() still says 64; the quota is in the cgroup's
 * `cpu.max` ("200000 100000": 2 CPUs' worth per period; "max 100000": none), or on cgroup
 * v1 in cpu.cfs_quota_us / cpu.cfs_period_us. Every level up to the root may set one:
 * the tightest wins. Neither Gunicorn nor PM2 read it, so `-w max` there starts 64 workers
 * that share 2 CPUs.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

export interface CpuProbe {
  /** where cgroupfs is mounted (tests point it at a fake tree) */
  cgroupRoot?: string
  /** the contents of /proc/self/cgroup */
  procSelfCgroup?: string
  availableParallelism?: number
}

export interface UsableCpus {
  count: number
  /** what lowered it, for the log: "cgroup cpu.max 150000 100000 at /kubepods/pod1" */
  why: string
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/** the quota in CPUs of one cgroup directory, or null for none */
function quotaAt(dir: string): { cpus: number; raw: string } | null {
  const v2 = read(join(dir, 'cpu.max'))
  if (v2) {
    const [quota, period] = v2.split(/\s+/)
    if (quota !== 'max' && Number(quota) > 0 && Number(period) > 0) return { cpus: Number(quota) / Number(period), raw: `cpu.max ${v2}` }
    return null
  }
  const q = Number(read(join(dir, 'cpu.cfs_quota_us')))
  const p = Number(read(join(dir, 'cpu.cfs_period_us')))
  if (q > 0 && p > 0) return { cpus: q / p, raw: `cpu.cfs_quota_us ${q} / cpu.cfs_period_us ${p}` }
  return null
}

/** the cgroup directories this process sits in, innermost first, each level up to the root */
function cgroupDirs(root: string, procSelfCgroup: string): string[] {
  const dirs: string[] = []
  for (const line of procSelfCgroup.split('\n')) {
    // v2: "0::/path"; v1: "4:cpu,cpuacct:/path"
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim())
    if (!m) continue
    const controllers = m[1]
    const base = controllers === '' ? root : controllers.split(',').includes('cpu') ? join(root, controllers) : null
    if (!base) continue
    for (let rel = m[2]; ; rel = rel.slice(0, rel.lastIndexOf('/'))) {
      dirs.push(join(base, rel))
      if (!rel || rel === '/') break
    }
  }
  return dirs
}

export function usableCpus(probe: CpuProbe = {}): UsableCpus {
  const available = probe.availableParallelism ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)
  const root = probe.cgroupRoot ?? '/sys/fs/cgroup'
  const self = probe.procSelfCgroup ?? read('/proc/self/cgroup') ?? ''
  let best: { cpus: number; why: string } | null = null
  for (const dir of cgroupDirs(root, self)) {
    const q = quotaAt(dir)
    if (q && (!best || q.cpus < best.cpus)) best = { cpus: q.cpus, why: `cgroup ${q.raw} at ${dir.slice(root.length) || '/'}` }
  }
  if (best && Math.ceil(best.cpus) < available) return { count: Math.max(1, Math.ceil(best.cpus)), why: best.why }
  return { count: Math.max(1, available), why: 'os.availableParallelism()' }
}
