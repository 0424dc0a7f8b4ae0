/**
 * The preload exposes exactly the typed PaddockBridge (src/shared/bridge.ts) as
 * window.paddock: no ipcRenderer, no Node. Every listener returns its unsubscribe function.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { IPC, type FleetServerSpec, type PaddockBridge, type TargetInfo } from '../shared/bridge.js'
import type { LocalServers } from '../shared/fleet-address.js'
import type { ClientFrame, ControlCommand, ServerFrame } from '../shared/protocol.js'

function listen<T>(channel: string, listener: (payload: T) => void): () => void {
  const wrapped = (_e: IpcRendererEvent, payload: T) => listener(payload)
  ipcRenderer.on(channel, wrapped)
  return () => ipcRenderer.removeListener(channel, wrapped)
}

const bridge: PaddockBridge = {
  onFrame: (listener) => listen<ServerFrame>(IPC.serverFrame, listener),
  send: (frame: ClientFrame) => ipcRenderer.send(IPC.clientFrame, frame),
  targets: {
    list: () => ipcRenderer.invoke(IPC.targetsList) as Promise<TargetInfo[]>,
    attach: (socketPath: string) => ipcRenderer.invoke(IPC.targetsAttach, socketPath) as Promise<TargetInfo>,
    select: (id: string) => ipcRenderer.invoke(IPC.targetsSelect, id) as Promise<TargetInfo>,
    onChange: (listener) => listen<TargetInfo>(IPC.targetChanged, listener),
  },
  saveFile: (name: string, content: string) => ipcRenderer.invoke(IPC.saveFile, name, content) as Promise<string | null>,
  onMenuCommand: (listener) => listen<ControlCommand>(IPC.menuCommand, listener),
  fleet: {
    open: (spec: FleetServerSpec) => ipcRenderer.invoke(IPC.fleetOpen, spec) as Promise<string>,
    send: (channel: string, frame: ClientFrame) => ipcRenderer.send(IPC.fleetSend, channel, frame),
    close: (channel: string) => ipcRenderer.send(IPC.fleetClose, channel),
    onFrame: (listener) => listen<[string, ServerFrame]>(IPC.fleetFrame, ([channel, frame]) => listener(channel, frame)),
    onClose: (listener) => listen<[string, string]>(IPC.fleetClosed, ([channel, reason]) => listener(channel, reason)),
    saved: () => ipcRenderer.invoke(IPC.fleetSaved) as Promise<FleetServerSpec[]>,
    save: (spec: FleetServerSpec) => ipcRenderer.invoke(IPC.fleetSave, spec) as Promise<void>,
    forget: (address: string) => ipcRenderer.invoke(IPC.fleetForget, address) as Promise<void>,
    local: () => ipcRenderer.invoke(IPC.fleetLocal) as Promise<LocalServers>,
  },
}

contextBridge.exposeInMainWorld('paddock', bridge)
