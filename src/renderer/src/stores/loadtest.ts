/**
 * The teaching kit's load generator and experiments, run by the host in a process of its
 * own. Progress arrives as events; the final result of an experiment as the command result.
 */
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ExperimentOptions, ExperimentResult, LoadOptions, LoadProgress, LoadResult } from '@shared/protocol'
import { useActionsStore } from './actions'

export interface ExperimentOutcome {
  options: ExperimentOptions
  results: ExperimentResult[]
  explanation: string
  at: number
}

export const PRESETS: { label: string; url: string }[] = [
  { label: 'hello  /', url: '/' },
  { label: 'I/O wait  /io?ms=100', url: '/io?ms=100' },
  { label: 'CPU  /cpu?ms=10', url: '/cpu?ms=10' },
  { label: 'blocking  /block?ms=50', url: '/block?ms=50' },
  { label: 'streamed  /stream?chunks=5&ms=20', url: '/stream?chunks=5&ms=20' },
]

export const useLoadStore = defineStore('loadtest', () => {
  const progress = shallowRef<LoadProgress | null>(null)
  const result = shallowRef<LoadResult | null>(null)
  const experiment = shallowRef<ExperimentOutcome | null>(null)
  const experimentRunning = ref(false)
  const error = ref<string | null>(null)

  const finished = new Set<number>()
  function onProgress(p: LoadProgress): void {
    // late progress of a run that already finished is ignored
    if (!finished.has(p.id)) progress.value = p
  }
  function onDone(r: LoadResult): void {
    finished.add(r.id)
    progress.value = null
    result.value = r
  }

  async function start(options: LoadOptions): Promise<boolean> {
    error.value = null
    result.value = null
    const r = await useActionsStore().run(`load ${options.url}`, { cmd: 'load.start', options })
    if (!r.ok) error.value = r.error.message
    return r.ok
  }

  async function stop(): Promise<void> {
    await useActionsStore().run('stop load', { cmd: 'load.stop' })
  }

  async function runExperiment(options: ExperimentOptions): Promise<void> {
    error.value = null
    experimentRunning.value = true
    try {
      const r = await useActionsStore().run(`experiment ${options.load.url}`, { cmd: 'experiment.run', options })
      if (r.ok) experiment.value = { options, ...(r.data as { results: ExperimentResult[]; explanation: string }), at: Date.now() }
      else error.value = r.error.message
    } finally {
      experimentRunning.value = false
    }
  }

  return { progress, result, experiment, experimentRunning, error, onProgress, onDone, start, stop, runExperiment }
})
