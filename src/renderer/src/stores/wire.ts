/** Connects the stores to one transport: snapshots feed history and timeline, events feed the rest. */
import type { ControlTransport } from '../transport/types'
import { useActionsStore } from './actions'
import { useConnectionStore } from './connection'
import { useEventsStore } from './events'
import { useHistoryStore } from './history'
import { useLoadStore } from './loadtest'
import { useTimelineStore } from './timeline'

export const MENU_LABELS: Record<string, string> = {
  reload: 'reload (HUP)',
  'workers.add': 'add a worker (TTIN)',
  'workers.remove': 'remove a worker (TTOU)',
  stop: 'stop',
  start: 'start',
  'logs.reopen': 'reopen logs (USR1)',
}

/** Returns a function that undoes the wiring (every listener it added), as every `on...` does. */
export function wire(transport: ControlTransport): () => void {
  const conn = useConnectionStore()
  const history = useHistoryStore()
  const timeline = useTimelineStore()
  const events = useEventsStore()
  const load = useLoadStore()
  const actions = useActionsStore()
  let lastPid = 0
  const offSnapshot = conn.onSnapshot((s) => {
    // another arbiter (attached elsewhere, or restarted): its history starts afresh
    if (s.pid !== lastPid) {
      history.clear()
      lastPid = s.pid
    }
    history.push(s)
    timeline.onSnapshot(s)
    events.observe(s.workers, s.at)
    if (s.load && s.load.running) load.onProgress(s.load)
  })
  // The server's record replaces ours: on a reconnect it is as complete, in a new tab it is all there is.
  const offHistory = conn.onHistory(({ history: kept, snapshot }) => {
    history.clear()
    for (const p of kept.points) history.pushPoint(p)
    events.replay(kept.events)
    lastPid = snapshot.pid
  })
  const offEvent = conn.onEvent((e) => {
    if (e.type === 'spans') timeline.addSpans(e.spans, e.dropped)
    else if (e.type === 'load.progress') load.onProgress(e.load)
    else if (e.type === 'load.done') load.onDone(e.result)
    events.ingest(e)
  })
  const offMenu = transport.onMenuCommand?.((command) => void actions.run(MENU_LABELS[command.cmd] ?? command.cmd, command))
  conn.connect(transport)
  return () => {
    offSnapshot()
    offEvent()
    offHistory()
    offMenu?.()
  }
}
