/**
 * startLoad: the in-process API the control plane and the CLI use. It forks
 * runner.js with IPC so load generation has a process (and event loop) of its own.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LoadOptions, LoadProgress, LoadResult } from '../../shared/protocol.js'
import { LoadStats } from './stats.js'
import { optionsProblem } from './target.js'
import { PaddockError } from '../errors.js'

export interface LoadHandle {
  pid: number | undefined
  stop(): void
  done: Promise<LoadResult>
}

let nextId = 1

/** Throws PADDOCK_ERR_INVALID_VALUE, before anything is forked, for a target or options that cannot work. */
export function startLoad(options: LoadOptions, onProgress: (p: LoadProgress) => void = () => {}): LoadHandle {
  const problem = optionsProblem(options)
  if (problem) throw new PaddockError('PADDOCK_ERR_INVALID_VALUE', problem)
  const id = nextId++
  const runner = fileURLToPath(new URL('./runner.js', import.meta.url))
  const child: ChildProcess = fork(runner, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let last: LoadProgress | null = null
  let stopping = false
  const done = new Promise<LoadResult>((resolve) => {
    let settled = false
    child.on('message', (m: { type: string; progress?: LoadProgress; result?: LoadResult }) => {
      if (m.type === 'progress' && m.progress) {
        last = m.progress
        onProgress(m.progress)
      } else if (m.type === 'result' && m.result) {
        settled = true
        resolve(m.result)
      }
    })
    child.on('exit', () => {
      if (settled) return
      // Killed before it could report (e.g. by pid): report what we last saw.
      const base = last ?? new LoadStats(id, options).progress(false)
      resolve({ ...base, running: false, finishedAt: Date.now(), statusCodes: {}, stoppedEarly: true })
    })
  })
  child.send({ type: 'start', id, options })
  return {
    pid: child.pid,
    done,
    stop() {
      if (stopping || child.exitCode !== null) return
      stopping = true
      if (child.connected) child.send({ type: 'stop' })
      // A runner that does not answer within 3 s is killed; done still resolves.
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 3000).unref()
    },
  }
}

export { renderSvg } from './svg.js'
export { optionsProblem, urlProblem } from './target.js'
