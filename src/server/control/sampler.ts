/**
 * Process and system figures the engine does not know: per-worker CPU % and RSS
 * (read straight from /proc: two small reads per pid, far cheaper than spawning ps),
 * and system load / memory via systeminformation. Sampled at 1 Hz by the control server.
 *
 * On Linux the machine's CPU % comes from /proc/stat directly: systeminformation's
 * currentLoad() runs `cat /proc/stat | grep cpu` through a synchronous shell on every call
 * (three processes a second, and the master's loop blocked while they run). Memory comes
 * from /proc/meminfo there too, so systeminformation (about 280 ms of CPU to import, in a
 * master whose first workers are still booting) is loaded only where /proc is missing.
 */
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import type { SystemSnapshot } from '../../shared/protocol.js'
import { HAS_PROC, pidusageFigures } from '../platform/process-figures.js'

type Si = typeof import('systeminformation')
let si: Promise<Si> | null = null
const systeminformation = (): Promise<Si> => (si ??= import('systeminformation').then((m) => ((m as { default?: Si }).default ?? m) as Si))

const CLK_TCK = 100 // USER_HZ is 100 on every mainstream Linux build
const PAGE = 4096

interface CpuMark {
  ticks: number
  at: number
}

export interface ProcSample {
  cpu: number | null
  rss: number | null
}

export class ProcSampler {
  private marks = new Map<number, CpuMark>()

  /** `pidusage`: where /proc is missing (macOS), through `ps` (platform/process-figures.ts) */
  constructor(private readonly source: 'proc' | 'pidusage' = HAS_PROC ? 'proc' : 'pidusage') {}

  async sample(pids: number[]): Promise<Map<number, ProcSample>> {
    if (this.source === 'pidusage') return pidusageFigures(pids, { usePs: true })
    const out = new Map<number, ProcSample>()
    const now = performance.now()
    await Promise.all(
      pids.map(async (pid) => {
        try {
          const [stat, statm] = await Promise.all([
            readFile(`/proc/${pid}/stat`, 'utf8'),
            readFile(`/proc/${pid}/statm`, 'utf8'),
          ])
          // comm (field 2) may contain spaces or parens: split after the last ')'
          const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
          const ticks = Number(rest[11]) + Number(rest[12]) // utime + stime
          const rss = Number(statm.split(' ')[1]) * PAGE
          const prev = this.marks.get(pid)
          this.marks.set(pid, { ticks, at: now })
          const cpu = prev && now > prev.at ? ((ticks - prev.ticks) / CLK_TCK / ((now - prev.at) / 1000)) * 100 : null
          out.set(pid, { cpu: cpu === null ? null : Math.max(0, Math.round(cpu * 10) / 10), rss })
        } catch {
          out.set(pid, { cpu: null, rss: null })
        }
      }),
    )
    for (const pid of this.marks.keys()) if (!pids.includes(pid)) this.marks.delete(pid)
    return out
  }
}

let lastCpu: { busy: number; total: number } | null = null

/** Busy % of all cores since the previous call, from the aggregate `cpu` line of /proc/stat. */
async function linuxCpuPercent(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).slice(0, 256).split('\n', 1)[0]!
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const idle = f[3]! + f[4]!
  const total = f.reduce((a, b) => a + b, 0)
  const prev = lastCpu
  lastCpu = { busy: total - idle, total }
  if (!prev || total <= prev.total) return 0
  return ((total - idle - prev.busy) / (total - prev.total)) * 100
}

async function cpuPercent(): Promise<number> {
  if (process.platform === 'linux') {
    try {
      return await linuxCpuPercent()
    } catch {
      // no /proc (a container without it): ask systeminformation
    }
  }
  return (await (await systeminformation()).currentLoad()).currentLoad
}

/** Total and used memory (used: not available to new work, as systeminformation's `active`), bytes. */
async function memory(): Promise<{ total: number; used: number }> {
  if (process.platform === 'linux') {
    try {
      const text = await readFile('/proc/meminfo', 'utf8')
      const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
      const total = kib('MemTotal')
      const available = kib('MemAvailable')
      if (Number.isFinite(total) && Number.isFinite(available)) return { total, used: total - available }
    } catch {
      // no /proc: ask systeminformation
    }
  }
  const mem = await (await systeminformation()).mem()
  return { total: mem.total, used: mem.active }
}

export async function sampleSystem(): Promise<SystemSnapshot> {
  try {
    const [cpu, mem] = await Promise.all([cpuPercent(), memory()])
    return {
      load1: os.loadavg()[0]!,
      cpu: Math.round(cpu * 10) / 10,
      memTotal: mem.total,
      memUsed: mem.used,
      cores: os.availableParallelism(),
    }
  } catch {
    return {
      load1: os.loadavg()[0]!,
      cpu: 0,
      memTotal: os.totalmem(),
      memUsed: os.totalmem() - os.freemem(),
      cores: os.availableParallelism(),
    }
  }
}
