/**
 * Window size and position, remembered across launches in a small JSON file (userData).
 * No Electron here: main passes the displays' work areas, so a window last shown on a
 * monitor that is gone now opens on one that is there.
 */
import fs from 'node:fs'
import path from 'node:path'

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export interface WindowState extends Partial<Rect> {
  width: number
  height: number
  maximized: boolean
}

export const DEFAULT_STATE: WindowState = { width: 1400, height: 900, maximized: false }
const MIN = { width: 640, height: 400 }

export function loadWindowState(file: string): WindowState {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<WindowState>
    const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v)
    if (!num(raw.width) || !num(raw.height)) return { ...DEFAULT_STATE }
    const state: WindowState = { width: Math.max(MIN.width, raw.width!), height: Math.max(MIN.height, raw.height!), maximized: raw.maximized === true }
    if (num(raw.x) && num(raw.y)) Object.assign(state, { x: raw.x, y: raw.y })
    return state
  } catch {
    return { ...DEFAULT_STATE }
  }
}

export function saveWindowState(file: string, state: WindowState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  // write then rename: a crash while writing must not leave half a file that resets the window
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(state))
  fs.renameSync(tmp, file)
}

/**
 * The bounds to open with: the saved position only when its title bar area is on one of
 * the work areas now, else centred by the system (no x / y); never larger than the
 * largest work area.
 */
export function placeWindow(state: WindowState, workAreas: Rect[]): WindowState {
  const largest = workAreas.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a), workAreas[0] ?? { x: 0, y: 0, width: state.width, height: state.height })
  const width = Math.min(state.width, largest.width)
  const height = Math.min(state.height, largest.height)
  const placed: WindowState = { width, height, maximized: state.maximized }
  if (state.x === undefined || state.y === undefined) return placed
  // the top strip of the window (where it is dragged from) must be reachable
  const grip = { x: state.x + 40, y: state.y + 10, width: Math.max(1, width - 80), height: 20 }
  const visible = workAreas.some((a) => grip.x < a.x + a.width && grip.x + grip.width > a.x && grip.y >= a.y && grip.y < a.y + a.height)
  return visible ? { ...placed, x: state.x, y: state.y } : placed
}
