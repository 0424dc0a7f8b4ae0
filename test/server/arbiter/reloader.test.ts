import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startReloader, type Reloader } from '../../../src/server/arbiter/reloader.js'
import { sleep } from '../../helpers/proc.js'

const cleanup: (() => void)[] = []
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c()
})

/** inotify watches this process holds now, from /proc/self/fdinfo */
function inotifyWatches(): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length
    } catch {
      // closed meanwhile
    }
  }
  return n
}

/** a project: app.mjs, 12 source directories, and 1500 directories under node_modules and .git */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-reloader-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'app.mjs'), 'export default () => {}\n')
  for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) mkdirSync(join(dir, 'src', `m${i}`, `sub${j}`), { recursive: true })
  for (let i = 0; i < 300; i++) for (let j = 0; j < 4; j++) mkdirSync(join(dir, 'node_modules', `pkg${i}`, `lib${j}`), { recursive: true })
  for (let i = 0; i < 200; i++) mkdirSync(join(dir, '.git', 'objects', `o${i}`), { recursive: true })
  return dir
}

function start(root: string): { reloader: Reloader; changes: string[][] } {
  const changes: string[][] = []
  const reloader = startReloader({ root, debounceMs: 50, onChange: (files) => changes.push(files) })
  cleanup.push(() => reloader.close())
  return { reloader, changes }
}

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (cond()) return true
  return cond()
}

describe('--reload watcher', () => {
  it('watches only the directories that are not ignored: one inotify watch each, none under node_modules or .git', async () => {
    const root = project()
    const before = inotifyWatches()
    const { reloader } = start(root)
    await reloader.ready
    // the root, src, 4 modules and 8 subdirectories; a recursive watch put one on each of the 1500 more
    expect(reloader.watchedDirs()).toBe(14)
    expect(inotifyWatches() - before).toBe(14)
    reloader.close()
    expect(inotifyWatches()).toBe(before)
  })

  it('a save reloads, in a directory made after the start too; node_modules, .git and editor scratch files do not', async () => {
    const root = project()
    const { reloader, changes } = start(root)
    await reloader.ready
    writeFileSync(join(root, 'src', 'm1', 'sub0', 'x.mjs'), 'x')
    expect(await until(() => changes.flat().includes(join('src', 'm1', 'sub0', 'x.mjs')))).toBe(true)

    mkdirSync(join(root, 'src', 'fresh'))
    expect(await until(() => reloader.watchedDirs() === 15)).toBe(true)
    writeFileSync(join(root, 'src', 'fresh', 'y.mjs'), 'y')
    expect(await until(() => changes.flat().includes(join('src', 'fresh', 'y.mjs')))).toBe(true)

    const seen = changes.length
    writeFileSync(join(root, 'node_modules', 'pkg3', 'lib1', 'z.js'), 'z')
    writeFileSync(join(root, 'node_modules', 'new.js'), 'z')
    writeFileSync(join(root, '.git', 'objects', 'o1', 'abc'), 'z')
    writeFileSync(join(root, 'src', '.x.mjs.swp'), 'z')
    await sleep(400)
    expect(changes.length).toBe(seen)

    // a directory removed is forgotten
    rmSync(join(root, 'src', 'fresh'), { recursive: true })
    expect(await until(() => reloader.watchedDirs() === 14)).toBe(true)
  })
})
