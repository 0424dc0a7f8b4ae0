import { electronTransport } from './electron'
import { websocketTransport } from './websocket'
import type { ControlTransport } from './types'

export type { ControlTransport } from './types'

/** Electron when the preload exposed its bridge, else the WebSocket of `paddock dashboard`. */
export function defaultTransport(): ControlTransport {
  const bridge = window.paddock
  return bridge ? electronTransport(bridge) : websocketTransport()
}
