/**
 * Electron main: hosts the engine in-process (see hosting.ts), bridges the control protocol
 * to the one window over IPC (see targets.ts), and keeps the window locked down. Everything
 * it does through the engine is also possible headless (`paddock dashboard`), so this file
 * stays thin.
 *
 * Electron's `runAsNode` fuse must stay on: the engine forks its workers with
 * child_process.fork, which runs them on Electron's own Node.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, session, type IpcMainEvent, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { IPC, type TargetInfo } from '../shared/bridge.js'
import type { ControlCommand, ServerFrame } from '../shared/protocol.js'
import { startHosting, type Hosting } from './hosting.js'
import { closeDecision, TargetRegistry, type Subscribable } from './targets.js'

const ROOT = app.getAppPath()
const ENGINE = path.join(ROOT, 'dist/server')
const DEMO = path.join(ROOT, 'resources/demo/app.mjs')
const RENDERER_FILE = path.join(__dirname, '../renderer/index.html')
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

let win: BrowserWindow | null = null
let hosting: Hosting | null = null
let targets: TargetRegistry | null = null
let quitting = false

/** paddock options and app after `--`: `npm start -- app.mjs -w 4` */
function paddockArgv(): string[] {
  const i = process.argv.indexOf('--')
  return i >= 0 ? process.argv.slice(i + 1) : []
}

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
  const w = new BrowserWindow({
    width: 1400,
    height: 900,
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
  w.on('close', (e) => {
    if (quitting) return
    e.preventDefault()
    void closeWindow()
  })
  const dev = process.env.ELECTRON_RENDERER_URL
  if (dev && !app.isPackaged) void w.loadURL(dev)
  else void w.loadFile(RENDERER_FILE)
  return w
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

function menuCommand(command: ControlCommand): () => void {
  return () => send(IPC.menuCommand, command)
}

function buildMenu(): void {
  const template: MenuItemConstructorOptions[] = [
    { role: 'fileMenu' },
    {
      label: 'Server',
      submenu: [
        { label: 'Reload (HUP)', accelerator: 'CmdOrCtrl+R', click: menuCommand({ cmd: 'reload' }) },
        { label: 'Add a worker (TTIN)', accelerator: 'CmdOrCtrl+=', click: menuCommand({ cmd: 'workers.add', count: 1 }) },
        { label: 'Remove a worker (TTOU)', accelerator: 'CmdOrCtrl+-', click: menuCommand({ cmd: 'workers.remove', count: 1 }) },
        { type: 'separator' },
        { label: 'Reopen log files (USR1)', click: menuCommand({ cmd: 'logs.reopen' }) },
        { type: 'separator' },
        { label: 'Stop gracefully (TERM)', click: menuCommand({ cmd: 'stop', mode: 'graceful' }) },
        { label: 'Quick stop (INT)', click: menuCommand({ cmd: 'stop', mode: 'quick' }) },
        { label: 'Start', click: menuCommand({ cmd: 'start' }) },
      ],
    },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
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

app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    // electronegativity: CSP_GLOBAL_CHECK the policy is the CSP constant above (no inline script or style, nothing remote); the checker cannot read a constant
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  buildMenu()
  const { unixRelay } = (await import(pathToFileURL(path.join(ENGINE, 'control/relay.js')).href)) as typeof import('../server/control/relay.js')
  registerIpc(unixRelay)
  try {
    hosting = await startHosting({ engineDir: ENGINE, demoApp: DEMO, argv: paddockArgv() })
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
