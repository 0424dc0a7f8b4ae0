import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_STATE, loadWindowState, placeWindow, saveWindowState } from '../../src/main/window-state.js'
import { appPaths, launchArgs, unpacked } from '../../src/main/paths.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('window state', () => {
  it('is saved and read back; a missing or broken file gives the default size', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-win-'))
    dirs.push(dir)
    const file = path.join(dir, 'profile', 'window-state.json')
    expect(loadWindowState(file)).toEqual(DEFAULT_STATE)
    saveWindowState(file, { x: 100, y: 50, width: 1000, height: 700, maximized: true })
    expect(loadWindowState(file)).toEqual({ x: 100, y: 50, width: 1000, height: 700, maximized: true })
    fs.writeFileSync(file, '{"width": 10')
    expect(loadWindowState(file)).toEqual(DEFAULT_STATE)
  })

  it('keeps the position on a screen that is there, drops it for one that is gone, and fits the size', () => {
    const screens = [{ x: 0, y: 0, width: 1920, height: 1050 }]
    expect(placeWindow({ x: 100, y: 50, width: 1000, height: 700, maximized: false }, screens)).toEqual({ x: 100, y: 50, width: 1000, height: 700, maximized: false })
    // last shown on a second monitor, now unplugged: the system places it
    expect(placeWindow({ x: 2500, y: 100, width: 1000, height: 700, maximized: false }, screens)).toEqual({ width: 1000, height: 700, maximized: false })
    expect(placeWindow({ x: 0, y: 0, width: 4000, height: 3000, maximized: false }, screens)).toMatchObject({ width: 1920, height: 1050 })
  })
})

describe('desktop paths', () => {
  it('packaged, the engine and the demo are loaded from app.asar.unpacked', () => {
    const p = appPaths('/opt/paddock/resources/app.asar/out/main')
    expect(p.root).toBe('/opt/paddock/resources/app.asar')
    expect(p.engine).toBe('/opt/paddock/resources/app.asar.unpacked/dist/server')
    expect(p.demo).toBe('/opt/paddock/resources/app.asar.unpacked/resources/demo/app.mjs')
    expect(appPaths('/home/me/paddock/out/main').engine).toBe('/home/me/paddock/dist/server')
    expect(unpacked('/x/app.asarfoo/y')).toBe('/x/app.asarfoo/y')
  })

  it('the paddock arguments of a launch: after --, else after the executable', () => {
    expect(launchArgs(['/usr/bin/electron', '/src/out/main/index.js', '--', 'app.mjs', '-w', '2'], false)).toEqual(['app.mjs', '-w', '2'])
    expect(launchArgs(['/opt/paddock/paddock-desktop', 'app.mjs', '--no-sandbox'], true)).toEqual(['app.mjs'])
    expect(launchArgs(['/usr/bin/electron', '/src/out/main/index.js'], false)).toEqual([])
  })
})
