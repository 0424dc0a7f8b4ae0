/**
 * Every operator action goes through run(): it is listed while it runs, then shows its
 * result or its error. Buttons disable themselves while their own action is pending.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { CommandResult, ControlCommand } from '@shared/protocol'
import { useConnectionStore } from './connection'

export interface ActionRecord {
  id: number
  label: string
  cmd: ControlCommand['cmd']
  state: 'running' | 'ok' | 'error'
  message: string
  startedAt: number
  endedAt: number | null
}

const KEEP = 30
/** how long a successful action's toast stays after it ended; an error's stays until dismissed */
export const OK_TOAST_MS = 4000
/** toasts shown at once, newest first; the rest are counted under them */
export const MAX_TOASTS = 3
/** an action still unanswered after this long says so (and keeps waiting: it may well be under way) */
export const SLOW_ACTION_MS = 15_000

export const useActionsStore = defineStore('actions', () => {
  const list = ref<ActionRecord[]>([])
  const pending = ref<Record<string, number>>({})
  let nextId = 1

  async function run(label: string, command: ControlCommand): Promise<CommandResult> {
    const conn = useConnectionStore()
    const rec: ActionRecord = { id: nextId++, label, cmd: command.cmd, state: 'running', message: 'in progress…', startedAt: Date.now(), endedAt: null }
    list.value = [rec, ...list.value].slice(0, KEEP)
    pending.value = { ...pending.value, [command.cmd]: (pending.value[command.cmd] ?? 0) + 1 }
    let result: CommandResult
    const slow = setTimeout(() => {
      list.value = list.value.map((r) => (r.id === rec.id && r.state === 'running' ? { ...r, message: `no answer yet after ${SLOW_ACTION_MS / 1000} s: still under way, see the workers and events` } : r))
    }, SLOW_ACTION_MS)
    try {
      result = await conn.command(command)
    } catch (err) {
      result = { ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: String(err) } }
    } finally {
      clearTimeout(slow)
    }
    pending.value = { ...pending.value, [command.cmd]: Math.max(0, (pending.value[command.cmd] ?? 1) - 1) }
    const done: ActionRecord = {
      ...rec,
      state: result.ok ? 'ok' : 'error',
      message: result.ok ? (result.message ?? 'done') : `${result.error.message} (${result.error.code})`,
      endedAt: Date.now(),
    }
    list.value = list.value.map((r) => (r.id === rec.id ? done : r))
    return result
  }

  const isPending = (cmd: ControlCommand['cmd']) => (pending.value[cmd] ?? 0) > 0
  const dismiss = (id: number) => (list.value = list.value.filter((r) => r.id !== id))

  return { list, run, isPending, dismiss }
})
