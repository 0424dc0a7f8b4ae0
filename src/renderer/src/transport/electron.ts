/** Electron transport: the preload's window.paddock bridge (typed in src/shared/bridge.ts). */
import type { PaddockBridge } from '@shared/bridge'
import type { ControlTransport } from './types'

export function electronTransport(bridge: PaddockBridge): ControlTransport {
  let off: (() => void) | null = null
  let offTarget: (() => void) | null = null
  return {
    kind: 'electron',
    open(h) {
      off = bridge.onFrame((f) => h.onFrame(f))
      // a new target needs a new hello, exactly like a reconnect
      offTarget = bridge.targets.onChange(() => h.onOpen())
      h.onOpen()
    },
    send: (frame) => bridge.send(frame),
    close() {
      off?.()
      offTarget?.()
    },
    targets: bridge.targets,
    saveFile: (name, content) => bridge.saveFile(name, content),
    onMenuCommand: (l) => bridge.onMenuCommand(l),
  }
}
