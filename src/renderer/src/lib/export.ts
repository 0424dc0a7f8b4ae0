/**
 * Export of the history and events the server keeps (the same record `paddock ctl export`
 * prints), as JSON or CSV, saved as a file by the browser or the desktop window.
 */
import { eventsCsv, historyCsv, type ReplayedHistory } from '@shared/history'

export type ExportKind = 'history' | 'events'
export type ExportFormat = 'json' | 'csv'

export function exportText(record: ReplayedHistory, kind: ExportKind, format: ExportFormat): string {
  if (kind === 'history') return format === 'csv' ? historyCsv(record.points) : JSON.stringify(record.points, null, 2)
  return format === 'csv' ? eventsCsv(record.events) : JSON.stringify(record.events, null, 2)
}

export function exportFileName(kind: ExportKind, format: ExportFormat, at = new Date()): string {
  return `paddock-${kind}-${at.toISOString().replace(/[:.]/g, '-')}.${format}`
}

export function saveText(name: string, text: string, format: ExportFormat): void {
  const url = URL.createObjectURL(new Blob([text], { type: format === 'csv' ? 'text/csv' : 'application/json' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
