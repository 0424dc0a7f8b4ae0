/**
 * The application menu as a template, built without Electron (types only) so that a test
 * can check it: the standard app and edit menus (copy and paste in text fields need the
 * Edit menu's roles on macOS) and no accelerator used twice on any platform.
 *
 * Role items carry their accelerator explicitly, the same one Electron gives the role, so
 * that the template shows every shortcut the menu takes.
 */
import type { MenuItemConstructorOptions } from 'electron'
import type { ControlCommand } from '../shared/protocol.js'

export interface MenuActions {
  /** run a control command in the window, as if its button was pressed */
  command(command: ControlCommand): void
  openAppModule(): void
  attachToServer(): void
}

export function menuTemplate(platform: NodeJS.Platform, appName: string, actions: MenuActions): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin'
  const run = (command: ControlCommand) => () => actions.command(command)
  const appMenu: MenuItemConstructorOptions = {
    label: appName,
    submenu: [
      { role: 'about' },
      { type: 'separator' },
      { role: 'services' },
      { type: 'separator' },
      { role: 'hide', accelerator: 'Command+H' },
      { role: 'hideOthers', accelerator: 'Command+Alt+H' },
      { role: 'unhide' },
      { type: 'separator' },
      { role: 'quit', accelerator: 'Command+Q' },
    ],
  }
  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open App Module…', accelerator: 'CmdOrCtrl+O', click: () => actions.openAppModule() },
      { label: 'Attach to a Running Server…', accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.attachToServer() },
      { type: 'separator' },
      mac ? { role: 'close', accelerator: 'Command+W' } : { role: 'quit', accelerator: platform === 'win32' ? 'Alt+F4' : 'Ctrl+Q' },
    ],
  }
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      { role: 'undo', accelerator: 'CmdOrCtrl+Z' },
      { role: 'redo', accelerator: platform === 'win32' ? 'Control+Y' : 'Shift+CmdOrCtrl+Z' },
      { type: 'separator' },
      { role: 'cut', accelerator: 'CmdOrCtrl+X' },
      { role: 'copy', accelerator: 'CmdOrCtrl+C' },
      { role: 'paste', accelerator: 'CmdOrCtrl+V' },
      ...(mac ? [{ role: 'pasteAndMatchStyle', accelerator: 'Shift+Command+V' } as const] : []),
      { role: 'delete' },
      { role: 'selectAll', accelerator: 'CmdOrCtrl+A' },
    ],
  }
  // Server shortcuts take Alt: CmdOrCtrl+R is the page reload and CmdOrCtrl+- zooms out.
  const server: MenuItemConstructorOptions = {
    label: '&Server',
    submenu: [
      { label: 'Reload (HUP)', accelerator: 'CmdOrCtrl+Alt+R', click: run({ cmd: 'reload' }) },
      { label: 'Add a Worker (TTIN)', accelerator: 'CmdOrCtrl+Alt+=', click: run({ cmd: 'workers.add', count: 1 }) },
      { label: 'Remove a Worker (TTOU)', accelerator: 'CmdOrCtrl+Alt+-', click: run({ cmd: 'workers.remove', count: 1 }) },
      { type: 'separator' },
      { label: 'Reopen Log Files (USR1)', click: run({ cmd: 'logs.reopen' }) },
      { type: 'separator' },
      { label: 'Stop Gracefully (TERM)', click: run({ cmd: 'stop', mode: 'graceful' }) },
      { label: 'Quick Stop (INT)', click: run({ cmd: 'stop', mode: 'quick' }) },
      { label: 'Start', click: run({ cmd: 'start' }) },
    ],
  }
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { role: 'reload', accelerator: 'CmdOrCtrl+R' },
      { role: 'forceReload', accelerator: 'Shift+CmdOrCtrl+R' },
      { role: 'toggleDevTools', accelerator: mac ? 'Alt+Command+I' : 'Ctrl+Shift+I' },
      { type: 'separator' },
      { role: 'resetZoom', accelerator: 'CmdOrCtrl+0' },
      { role: 'zoomIn', accelerator: 'CmdOrCtrl+Plus' },
      { role: 'zoomOut', accelerator: 'CmdOrCtrl+-' },
      { type: 'separator' },
      { role: 'togglefullscreen', accelerator: mac ? 'Control+Command+F' : 'F11' },
    ],
  }
  const window: MenuItemConstructorOptions = {
    label: '&Window',
    submenu: [
      { role: 'minimize', accelerator: 'CmdOrCtrl+M' },
      { role: 'zoom' },
      ...(mac ? [{ type: 'separator' } as const, { role: 'front' } as const] : [{ role: 'close', accelerator: 'CmdOrCtrl+W' } as const]),
    ],
  }
  return [...(mac ? [appMenu] : []), file, edit, server, view, window]
}

/**
 * One accelerator as the keys pressed on `platform`: CmdOrCtrl resolved, modifiers sorted,
 * and `=` the same key as `Plus` (Chromium zooms in on Ctrl+= as on Ctrl+Plus).
 */
export function normalizeAccelerator(accelerator: string, platform: NodeJS.Platform): string {
  const mac = platform === 'darwin'
  const parts = accelerator.split('+').map((p, i, all) => (p === '' && i === all.length - 1 ? 'Plus' : p)).filter(Boolean)
  const key = parts.pop()!
  const mods = parts.map((m) => {
    const l = m.toLowerCase()
    if (l === 'cmdorctrl' || l === 'commandorcontrol') return mac ? 'cmd' : 'ctrl'
    if (l === 'command' || l === 'cmd' || l === 'super' || l === 'meta') return 'cmd'
    if (l === 'control' || l === 'ctrl') return 'ctrl'
    if (l === 'option' || l === 'alt' || l === 'altgr') return 'alt'
    return l
  })
  const k = key === '=' ? 'plus' : key.toLowerCase()
  return [...new Set(mods)].sort().concat(k).join('+')
}

/** Every accelerator of the template with the labels (or roles) that use it. */
export function acceleratorUses(template: MenuItemConstructorOptions[], platform: NodeJS.Platform): Map<string, string[]> {
  const uses = new Map<string, string[]>()
  const walk = (items: MenuItemConstructorOptions[]) => {
    for (const item of items) {
      if (typeof item.accelerator === 'string') {
        const k = normalizeAccelerator(item.accelerator, platform)
        uses.set(k, [...(uses.get(k) ?? []), item.label ?? String(item.role)])
      }
      if (Array.isArray(item.submenu)) walk(item.submenu)
    }
  }
  walk(template)
  return uses
}
