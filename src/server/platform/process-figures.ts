/**
 * A process's CPU and resident memory where /proc is missing (macOS, the BSDs): pidusage,
 * which runs `ps` there (one spawn per call for every pid asked, about 2 ms per pid on
 * Linux). On Linux the readers beside their users read /proc directly, which costs no
 * process at all (control/sampler.ts, arbiter/memory.ts); this is their fallback.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import pidusage from 'pidusage'

/** /proc/PID/statm and stat are there to read */
export const HAS_PROC = existsSync('/proc/self/statm')
const PAGE = 4096

export interface ProcessFigures {
  /** percent of one core since the previous call for that pid (null on the first) */
  cpu: number | null
  rss: number | null
}

/**
 * Figures by pid, through pidusage. `usePs` forces its `ps` path on Linux too (how it
 * runs on macOS; the tests use it). A pid that is gone gets nulls, not an error for all.
 */
export async function pidusageFigures(pids: number[], opts: { usePs?: boolean } = {}): Promise<Map<number, ProcessFigures>> {
  const out = new Map<number, ProcessFigures>()
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const s = await pidusage(pid, { usePs: opts.usePs ?? false })
        out.set(pid, { cpu: Math.max(0, Math.round(s.cpu * 10) / 10), rss: s.memory })
      } catch {
        out.set(pid, { cpu: null, rss: null })
      }
    }),
  )
  return out
}

/** Resident set size in bytes of each pid (null: gone or unreadable). */
export async function residentBytes(pids: number[], source: 'proc' | 'pidusage' = HAS_PROC ? 'proc' : 'pidusage'): Promise<Map<number, number | null>> {
  if (source === 'pidusage') {
    const figures = await pidusageFigures(pids, { usePs: true })
    return new Map([...figures].map(([pid, f]) => [pid, f.rss]))
  }
  const out = new Map<number, number | null>()
  await Promise.all(
    pids.map(async (pid) => {
      try {
        out.set(pid, Number((await readFile(`/proc/${pid}/statm`, 'utf8')).split(' ')[1]) * PAGE)
      } catch {
        out.set(pid, null)
      }
    }),
  )
  return out
}
