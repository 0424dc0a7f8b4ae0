import { describe, expect, it } from 'vitest'
import type { MenuItemConstructorOptions } from 'electron'
import { acceleratorUses, menuTemplate, normalizeAccelerator } from '../../src/main/menu.js'
import type { ControlCommand } from '../../src/shared/protocol.js'

const PLATFORMS: NodeJS.Platform[] = ['darwin', 'linux', 'win32']

function items(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return template.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? items(i.submenu) : [])])
}

describe('the application menu', () => {
  it.each(PLATFORMS)('uses no accelerator twice (%s)', (platform) => {
    const template = menuTemplate(platform, 'paddock', { command: () => {}, openAppModule: () => {}, attachToServer: () => {} })
    const clashes = [...acceleratorUses(template, platform)].filter(([, labels]) => labels.length > 1)
    expect(clashes).toEqual([])
  })

  it('treats CmdOrCtrl, = and Plus as the keys they are on each platform', () => {
    expect(normalizeAccelerator('CmdOrCtrl+=', 'linux')).toBe(normalizeAccelerator('Control+Plus', 'linux'))
    expect(normalizeAccelerator('CommandOrControl+Shift+R', 'darwin')).toBe(normalizeAccelerator('Shift+Cmd+R', 'darwin'))
    expect(normalizeAccelerator('CmdOrCtrl+R', 'darwin')).not.toBe(normalizeAccelerator('Ctrl+R', 'darwin'))
    // the clashes the old menu had are seen as clashes
    const old = [{ label: 'Reload (HUP)', accelerator: 'CmdOrCtrl+R' }, { role: 'reload', accelerator: 'CmdOrCtrl+R' }, { label: 'TTOU', accelerator: 'CmdOrCtrl+-' }, { role: 'zoomOut', accelerator: 'CmdOrCtrl+-' }] as MenuItemConstructorOptions[]
    expect([...acceleratorUses(old, 'linux').values()].filter((l) => l.length > 1)).toHaveLength(2)
  })

  it.each(PLATFORMS)('has the edit roles that make copy and paste work, and the app menu on macOS (%s)', (platform) => {
    const template = menuTemplate(platform, 'paddock', { command: () => {}, openAppModule: () => {}, attachToServer: () => {} })
    const roles = new Set(items(template).map((i) => i.role))
    for (const role of ['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll', 'reload', 'zoomIn', 'zoomOut', 'minimize', 'quit'] as const) expect(roles, role).toContain(role)
    expect(template[0]!.label === 'paddock').toBe(platform === 'darwin')
  })

  it('its server items send the control commands, and File opens the dialogs', () => {
    const sent: ControlCommand[] = []
    let opened = 0
    let attached = 0
    const template = menuTemplate('linux', 'paddock', { command: (c) => sent.push(c), openAppModule: () => opened++, attachToServer: () => attached++ })
    const byLabel = new Map(items(template).filter((i) => i.label).map((i) => [i.label!, i]))
    const click = (label: string) => (byLabel.get(label)!.click as () => void)()
    click('Reload (HUP)')
    click('Add a Worker (TTIN)')
    click('Remove a Worker (TTOU)')
    click('Stop Gracefully (TERM)')
    click('Open App Module…')
    click('Attach to a Running Server…')
    expect(sent).toEqual([{ cmd: 'reload' }, { cmd: 'workers.add', count: 1 }, { cmd: 'workers.remove', count: 1 }, { cmd: 'stop', mode: 'graceful' }])
    expect([opened, attached]).toEqual([1, 1])
  })
})
