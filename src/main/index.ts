/**
 * Electron main: hosts the engine in-process (see hosting.ts), bridges the control protocol
 * to the one window over IPC (see targets.ts), and keeps the window locked down. Everything
 * it does through the engine is also possible headless (`paddock dashboard`), so this file
 * stays thin.
 *
 * Electron's `runAsNode` fuse must stay on: the engine forks its workers with
 * child_process.fork, which runs them on Electron's own Node. Packaged, the engine and the
 * demo live outside the asar archive (paths.ts, electron-builder.config.mjs).
 *
 * One instance: a second launch focuses this window, or opens the app module it was given.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, safeStorage, screen, session, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { IPC, type TargetInfo } from '../shared/bridge.js'
import type { ControlCommand, ServerFrame } from '../shared/protocol.js'
import { startHosting, type Hosting } from './hosting.js'
import { menuTemplate } from './menu.js'
import { appPaths, launchArgs } from './paths.js'
import { closeDecision, TargetRegistry, type Subscribable } from './targets.js'
import { FleetChannels, FleetStore, fleetRelay } from './fleet-store.js'
import type { FleetServerSpec } from '../shared/bridge.js'
import type { LocalServers } from '../shared/fleet-address.js'
import { loadWindowState, placeWindow, saveWindowState, type WindowState } from './window-state.js'

const { engine: ENGINE, demo: DEMO } = appPaths(__dirname)
const loadEngine = <T>(rel: string) => import(pathToFileURL(path.join(ENGINE, rel)).href) as Promise<T>
const RENDERER_FILE = path.join(__dirname, '../renderer/index.html')
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

let win: BrowserWindow | null = null
let hosting: Hosting | null = null
let targets: TargetRegistry | null = null
let quitting = false

// run as `electron out/main/index.js` in development, Electron would take its own name
app.setName('paddock')
const WINDOW_STATE_FILE = path.join(app.getPath('userData'), 'window-state.json')
// tokens inside are encrypted with the OS keychain (safeStorage); see fleet-store.ts
const FLEET_FILE = path.join(app.getPath('userData'), 'fleet.json')

/** Only our window, showing our renderer, may talk to main. */
function fromOurWindow(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
  if (!win || event.sender !== win.webContents) return false
  const url = event.senderFrame?.url ?? ''
  const dev = process.env.ELECTRON_RENDERER_URL
  return url.startsWith(pathToFileURL(RENDERER_FILE).href) || (!!dev && url.startsWith(dev))
}

function send(channel: string, payload: unknown): void {
  if (win && !win.isDestroyed()) win.webContents.send(channel, payload)
}

function createWindow(): BrowserWindow {
  const state = placeWindow(loadWindowState(WINDOW_STATE_FILE), screen.getAllDisplays().map((d) => d.workArea))
  const w = new BrowserWindow({
    width: state.width,
    height: state.height,
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    title: 'paddock',
    backgroundColor: '#0f1419',
    webPreferences: {
      // electronegativity: PRELOAD_JS_CHECK the preload exposes only the typed PaddockBridge through contextBridge (src/preload/index.ts), never ipcRenderer or Node
      preload: path.join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
      // middle-click must not open links in a new window
      disableBlinkFeatures: 'Auxclick',
    },
  })
  // no navigation away from the dashboard, no new windows (the dashboard has no outside links)
  w.webContents.on('will-navigate', (e, url) => {
    if (url !== w.webContents.getURL()) e.preventDefault()
  })
  w.webContents.setWindowOpenHandler(() => ({ action: 'deny' }))
  if (state.maximized) w.maximize()
  w.on('close', (e) => {
    rememberBounds(w)
    if (quitting) return
    e.preventDefault()
    void closeWindow()
  })
  const dev = process.env.ELECTRON_RENDERER_URL
  if (dev && !app.isPackaged) void w.loadURL(dev)
  else void w.loadFile(RENDERER_FILE)
  return w
}

/** The normal (not maximized) bounds, so that un-maximizing next time restores them. */
function rememberBounds(w: BrowserWindow): void {
  const b = w.getNormalBounds()
  const state: WindowState = { x: b.x, y: b.y, width: b.width, height: b.height, maximized: w.isMaximized() }
  try {
    saveWindowState(WINDOW_STATE_FILE, state)
  } catch {
    // a read-only profile: the window opens at its default size next time
  }
}

/** Closing the window stops the hosted server gracefully; when requests are in flight, ask first. */
async function closeWindow(): Promise<void> {
  const snap = hosting?.host.snapshot()
  const inFlight = snap?.workers.reduce((a, w) => a + (w.state === 'exited' ? 0 : w.inFlight), 0) ?? 0
  let mode: 'graceful' | 'quick' = 'graceful'
  if (closeDecision(inFlight) === 'ask' && win) {
    const { response } = await dialog.showMessageBox(win, {
      type: 'question',
      buttons: ['Stop gracefully', 'Quit now', 'Cancel'],
      defaultId: 0,
      cancelId: 2,
      message: `${inFlight} request${inFlight === 1 ? ' is' : 's are'} in flight.`,
      detail: 'Stop gracefully lets them finish (up to the graceful timeout). Quit now cuts them off.',
    })
    if (response === 2) return
    if (response === 1) mode = 'quick'
  }
  quitting = true
  targets?.close()
  await hosting?.close(mode).catch(() => {})
  app.quit()
}

function buildMenu(): void {
  const template = menuTemplate(process.platform, app.getName(), {
    command: (command: ControlCommand) => send(IPC.menuCommand, command),
    openAppModule: () => void chooseAppModule(),
    attachToServer: () => void chooseServer(),
  })
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}

/** Serve another app module in the hosted server (a reload that falls back if it fails to boot). */
async function openAppModule(module: string): Promise<void> {
  if (!hosting || !targets) return
  const hosted = targets.list().find((t) => t.kind === 'hosted')
  if (hosted && targets.current()?.id !== hosted.id) targets.select(hosted.id)
  try {
    const outcome = await hosting.host.setApp(module)
    if (!outcome.ok) dialog.showErrorBox(`paddock could not serve ${path.basename(module)}`, outcome.error ?? 'the new app failed to boot; the previous one keeps serving')
  } catch (err) {
    dialog.showErrorBox(`paddock could not serve ${path.basename(module)}`, err instanceof Error ? err.message : String(err))
  }
}

async function chooseAppModule(): Promise<void> {
  if (!win) return
  const { canceled, filePaths } = await dialog.showOpenDialog(win, {
    title: 'Open an app module',
    properties: ['openFile'],
    filters: [{ name: 'JavaScript or TypeScript modules', extensions: ['js', 'mjs', 'cjs', 'ts', 'mts', 'cts'] }],
  })
  if (!canceled && filePaths[0]) await openAppModule(filePaths[0])
}

/** Attach to an arbiter started elsewhere: the live control sockets are offered first. */
async function chooseServer(): Promise<void> {
  if (!win || !targets) return
  const { liveControlSockets } = await loadEngine<typeof import('../server/control/live-sockets.js')>('control/live-sockets.js')
  const { defaultSocketDir } = await loadEngine<typeof import('../server/control/unix-socket.js')>('control/unix-socket.js')
  const sockets = (await liveControlSockets()).slice(0, 8)
  let chosen: string | undefined
  if (sockets.length > 0) {
    const { response } = await dialog.showMessageBox(win, {
      type: 'question',
      message: 'Attach to a running paddock server',
      detail: `Servers with a control socket in ${defaultSocketDir()}:`,
      buttons: [...sockets.map((p) => path.basename(p)), 'Other socket…', 'Cancel'],
      cancelId: sockets.length + 1,
    })
    if (response === sockets.length + 1) return
    chosen = sockets[response]
  }
  if (!chosen) {
    const { canceled, filePaths } = await dialog.showOpenDialog(win, { title: 'Attach to a control socket (--control-socket)', defaultPath: defaultSocketDir(), properties: ['openFile', 'showHiddenFiles'] })
    if (canceled || !filePaths[0]) return
    chosen = filePaths[0]
  }
  try {
    targets.attach(chosen)
  } catch (err) {
    dialog.showErrorBox('paddock could not attach', err instanceof Error ? err.message : String(err))
  }
}

/** A second launch: focus this window; with an app module on its command line, serve it. */
async function secondLaunch(args: string[], cwd: string): Promise<void> {
  if (win) {
    if (win.isMinimized()) win.restore()
    win.focus()
  }
  const { parseArgv } = await loadEngine<typeof import('../server/config/resolve.js')>('config/resolve.js')
  let module: string | null = null
  try {
    module = parseArgv(args, 'command line').app
  } catch {
    return
  }
  if (module) await openAppModule(/^\.{1,2}[\\/]/.test(module) ? path.resolve(cwd, module) : module)
}

function registerIpc(relay: (p: string) => Subscribable): void {
  targets = new TargetRegistry(
    (frame: ServerFrame) => send(IPC.serverFrame, frame),
    (info: TargetInfo) => send(IPC.targetChanged, info),
    relay,
  )
  ipcMain.on(IPC.clientFrame, (event, frame: unknown) => {
    if (fromOurWindow(event)) targets!.receive(frame)
  })
  ipcMain.handle(IPC.targetsList, (event) => (fromOurWindow(event) ? targets!.list() : []))
  ipcMain.handle(IPC.targetsAttach, (event, socketPath: unknown) => {
    if (!fromOurWindow(event)) throw new Error('refused')
    return targets!.attach(socketPath)
  })
  ipcMain.handle(IPC.targetsSelect, (event, id: unknown) => {
    if (!fromOurWindow(event)) throw new Error('refused')
    return targets!.select(id)
  })
  ipcMain.handle(IPC.saveFile, async (event, name: unknown, content: unknown) => {
    if (!fromOurWindow(event) || typeof name !== 'string' || typeof content !== 'string' || !win) throw new Error('refused')
    const { canceled, filePath } = await dialog.showSaveDialog(win, { defaultPath: path.basename(name) })
    if (canceled || !filePath) return null
    await writeFile(filePath, content)
    return filePath
  })
}

/** The Fleet view's channels to remote servers, and the servers saved with their tokens. */
function registerFleetIpc(relay: (spec: FleetServerSpec) => Subscribable, local: () => Promise<LocalServers>): void {
  const store = new FleetStore(FLEET_FILE, safeStorage)
  const channels = new FleetChannels(
    relay,
    (channel, frame) => send(IPC.fleetFrame, [channel, frame]),
    (channel, reason) => send(IPC.fleetClosed, [channel, reason]),
  )
  app.on('before-quit', () => channels.closeAll())
  ipcMain.handle(IPC.fleetOpen, (event, spec: unknown) => {
    if (!fromOurWindow(event)) throw new Error('refused')
    return channels.connect(spec)
  })
  ipcMain.on(IPC.fleetSend, (event, channel: unknown, frame: unknown) => {
    if (fromOurWindow(event)) channels.receive(channel, frame)
  })
  ipcMain.on(IPC.fleetClose, (event, channel: unknown) => {
    if (fromOurWindow(event)) channels.close(channel)
  })
  ipcMain.handle(IPC.fleetSaved, (event) => (fromOurWindow(event) ? store.list() : []))
  ipcMain.handle(IPC.fleetSave, (event, spec: unknown) => {
    if (!fromOurWindow(event)) throw new Error('refused')
    store.save(spec)
  })
  ipcMain.handle(IPC.fleetForget, (event, address: unknown) => {
    if (!fromOurWindow(event)) throw new Error('refused')
    store.forget(address)
  })
  ipcMain.handle(IPC.fleetLocal, (event) => {
    if (!fromOurWindow(event)) throw new Error('refused')
    return local()
  })
}

const firstLaunchArgs = launchArgs(process.argv, app.isPackaged)
if (!app.requestSingleInstanceLock({ args: firstLaunchArgs, cwd: process.cwd() })) {
  // the first instance got our arguments through 'second-instance'
  app.exit(0)
}
app.on('second-instance', (_event, _argv, workingDirectory, additionalData) => {
  const data = additionalData as { args?: unknown; cwd?: unknown } | undefined
  const args = Array.isArray(data?.args) ? data.args.filter((a): a is string => typeof a === 'string') : []
  void secondLaunch(args, typeof data?.cwd === 'string' ? data.cwd : workingDirectory)
})

app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    // electronegativity: CSP_GLOBAL_CHECK the policy is the CSP constant above (no inline script or style, nothing remote); the checker cannot read a constant
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  buildMenu()
  const { unixRelay, tcpRelay } = await loadEngine<typeof import('../server/control/relay.js')>('control/relay.js')
  const { parseRemote, readClientCert } = await loadEngine<typeof import('../server/control/remote.js')>('control/remote.js')
  registerIpc(unixRelay)
  const { localServers, localSocketPath } = await loadEngine<typeof import('../server/control/live-sockets.js')>('control/live-sockets.js')
  // the Fleet view's client certificate, for endpoints started with --control-ca-certs (docs/fleet.md)
  let clientCert: { cert: Buffer; key: Buffer } | undefined
  const certFile = process.env.PADDOCK_FLEET_CERTFILE
  const keyFile = process.env.PADDOCK_FLEET_KEYFILE
  if (certFile || keyFile) {
    try {
      if (!certFile || !keyFile) throw new Error('set both PADDOCK_FLEET_CERTFILE and PADDOCK_FLEET_KEYFILE')
      clientCert = readClientCert(certFile, keyFile)
    } catch (err) {
      dialog.showErrorBox('paddock: no client certificate for the Fleet view', err instanceof Error ? err.message : String(err))
    }
  }
  registerFleetIpc(fleetRelay({ unixRelay, tcpRelay, parseRemote, localSocketPath }, clientCert), () => localServers())
  try {
    hosting = await startHosting({ engineDir: ENGINE, demoApp: DEMO, argv: firstLaunchArgs })
  } catch (err) {
    dialog.showErrorBox('paddock could not start the server', err instanceof Error ? err.message : String(err))
    app.exit(1)
    return
  }
  const hosted = targets!.add({ label: `${hosting.host.snapshot().app} (pid ${process.pid})`, kind: 'hosted' }, hosting.plane.control)
  win = createWindow()
  targets!.select(hosted.id)
})

app.on('window-all-closed', () => app.quit())
app.on('before-quit', (e) => {
  if (quitting) return
  e.preventDefault()
  void closeWindow()
})
