/**
 * The Electron contract: what the preload exposes to the renderer as `window.paddock`,
 * and the IPC channel names behind it. Types and constants only.
 *
 * The renderer speaks the control protocol (protocol.ts) through a ControlTransport;
 * in Electron that transport is this bridge, in a browser it is a WebSocket. Either way
 * the frames are exactly ClientFrame / ServerFrame.
 *
 *   renderer --send(ClientFrame)--> preload --IPC.frame--> main --> ControlServer session
 *   renderer <--onFrame(ServerFrame)-- preload <--IPC.serverFrame-- main
 */
import type { ClientFrame, ControlCommand, ServerFrame } from './protocol.js'
import type { LocalServers } from './fleet-address.js'

/** An arbiter the window can show: the one Electron main hosts, or one attached over its control socket. */
export interface TargetInfo {
  id: string
  label: string
  kind: 'hosted' | 'attached'
  /** attached targets: the arbiter's control socket */
  socketPath?: string
}

/** A server of the fleet: its TCP control endpoint and the token it wants, or a local server's control socket. */
export interface FleetServerSpec {
  /** HOST:PORT, tls://HOST:PORT, or unix:PATH for a server on this machine (fleet-address.ts) */
  address: string
  /** the endpoint's token; empty for a unix: address (its socket's file modes guard it) */
  token: string
  /** PEM CA bundle that signed the server's certificate (turns TLS on) */
  ca?: string
}

export interface PaddockBridge {
  /** Frames from the current target. Returns an unsubscribe function. */
  onFrame(listener: (frame: ServerFrame) => void): () => void
  /** One frame to the current target (hello first, then commands). */
  send(frame: ClientFrame): void
  targets: {
    list(): Promise<TargetInfo[]>
    /** Attach to an arbiter started from the CLI; it becomes the current target. */
    attach(socketPath: string): Promise<TargetInfo>
    /** Make another known target current. */
    select(id: string): Promise<TargetInfo>
    /** The current target changed: the renderer must send hello again. */
    onChange(listener: (current: TargetInfo) => void): () => void
  }
  /** Save text (a load result as JSON or SVG) through a native save dialog; resolves to the path, or null when cancelled. */
  saveFile(suggestedName: string, content: string): Promise<string | null>
  /** A menu item was chosen: the renderer runs the command as if its button was pressed (so progress and errors show in the window). */
  onMenuCommand(listener: (command: ControlCommand) => void): () => void
  /**
   * The Fleet view's channels to remote servers' TCP control endpoints, relayed by main.
   * Tokens are kept by main, encrypted with the OS keychain (safeStorage).
   */
  fleet: {
    /** A channel to the server, at once; a failed connection arrives as an error frame and onClose. */
    open(spec: FleetServerSpec): Promise<string>
    send(channel: string, frame: ClientFrame): void
    close(channel: string): void
    onFrame(listener: (channel: string, frame: ServerFrame) => void): () => void
    onClose(listener: (channel: string, reason: string) => void): () => void
    /** The servers saved on this machine (tokens included: they stay in main and this window). */
    saved(): Promise<FleetServerSpec[]>
    save(spec: FleetServerSpec): Promise<void>
    forget(address: string): Promise<void>
    /** The servers running on this machine (live control sockets in paddock's socket directory). */
    local(): Promise<LocalServers>
  }
}

/** Every IPC channel, in one place. Main drops messages on these from any sender it did not create. */
export const IPC = {
  /** renderer -> main: a ClientFrame (send) */
  clientFrame: 'paddock:client-frame',
  /** main -> renderer: a ServerFrame */
  serverFrame: 'paddock:server-frame',
  /** renderer -> main (invoke): TargetInfo[] */
  targetsList: 'paddock:targets-list',
  /** renderer -> main (invoke): attach(socketPath) -> TargetInfo */
  targetsAttach: 'paddock:targets-attach',
  /** renderer -> main (invoke): select(id) -> TargetInfo */
  targetsSelect: 'paddock:targets-select',
  /** main -> renderer: the current target changed (TargetInfo) */
  targetChanged: 'paddock:target-changed',
  /** renderer -> main (invoke): saveFile(name, content) -> path | null */
  saveFile: 'paddock:save-file',
  /** main -> renderer: a menu item was chosen (a ControlCommand) */
  menuCommand: 'paddock:menu-command',
  /** renderer -> main (invoke): fleet.open(spec) -> channel id */
  fleetOpen: 'paddock:fleet-open',
  /** renderer -> main (send): [channel, ClientFrame] */
  fleetSend: 'paddock:fleet-send',
  /** renderer -> main (send): channel */
  fleetClose: 'paddock:fleet-close',
  /** main -> renderer: [channel, ServerFrame] */
  fleetFrame: 'paddock:fleet-frame',
  /** main -> renderer: [channel, reason] */
  fleetClosed: 'paddock:fleet-closed',
  /** renderer -> main (invoke): saved servers */
  fleetSaved: 'paddock:fleet-saved',
  /** renderer -> main (invoke): save(spec) */
  fleetSave: 'paddock:fleet-save',
  /** renderer -> main (invoke): forget(address) */
  fleetForget: 'paddock:fleet-forget',
  /** renderer -> main (invoke): the local servers (LocalServers) */
  fleetLocal: 'paddock:fleet-local',
} as const
