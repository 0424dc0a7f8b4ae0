/**
 * A ControlTransport carries control-protocol frames between the renderer and one arbiter.
 * Two implementations: the Electron bridge (window.paddock, see src/shared/bridge.ts) and a
 * WebSocket to `paddock dashboard`. The renderer never knows which it has.
 */
import type { ClientFrame, ServerFrame } from '@shared/protocol'
import type { TargetInfo } from '@shared/bridge'

export interface ControlTransport {
  readonly kind: 'electron' | 'websocket'
  /** Open (or reopen) the channel. onOpen runs every time it is (re)established: send hello then. */
  open(handlers: { onFrame(f: ServerFrame): void; onOpen(): void; onClose(reason: string): void }): void
  send(frame: ClientFrame): void
  close(): void
  /** Authentication material for hello (the dashboard token), if any. */
  token?: string
  /** Switching between arbiters (Electron only). */
  targets?: {
    list(): Promise<TargetInfo[]>
    attach(socketPath: string): Promise<TargetInfo>
    select(id: string): Promise<TargetInfo>
  }
  saveFile?(name: string, content: string): Promise<string | null>
  onMenuCommand?(listener: (command: import('@shared/protocol').ControlCommand) => void): () => void
}
