/**
 * The desktop build cannot run here (electron-builder needs Electron's binary), so this
 * checks its configuration against what the app loads: every file the main process, the
 * engine it hosts, a forked worker or a worker thread needs is packaged, and everything but
 * out/ (main, preload, renderer) is unpacked from the asar archive, since Electron's Node
 * cannot fork a script from inside one.
 *
 * Two views of "what it loads": the import graph of the built files, from the engine
 * modules src/main loads (with every fork / Worker / subcommand file named in them), and
 * a real run of the same engine (`paddock dashboard`, gthread workers) that lists each
 * file every process loaded.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { builtinModules } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, ROOT as ROOT_URL_PATH, stopAll, trackProcess } from '../helpers/proc.js'
import { DEMO_APP, ENGINE_DIR, appPaths } from '../../src/main/paths.js'

interface BuilderConfig {
  files: string[]
  asarUnpack: string[]
  extraMetadata: { main: string }
  electronFuses: Record<string, boolean>
  icon: string
  linux: { target: string[]; icon: string }
  mac: { target: string[]; icon: string }
  win: { target: string[]; icon: string }
}

const ROOT = path.resolve(ROOT_URL_PATH)
let config: BuilderConfig
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }

beforeAll(async () => {
  config = (await import(pathToFileURL(path.join(ROOT, 'electron-builder.config.mjs')).href)).default
  for (const f of ['dist/server/index.js', 'out/main/index.js']) {
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run npm run build first`)
  }
})
afterAll(stopAll)

/** electron-builder's glob subset used in the config: `**`, `*`, and `!` for exclusion. */
function globRe(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '(?:.*/)?')
  return new RegExp(`^${re.replace(/\(\?:\.\*\/\)\?$/, '.*')}$`)
}
function matches(patterns: string[], file: string): boolean {
  let hit = false
  for (const p of patterns) {
    if (p.startsWith('!')) hit &&= !globRe(p.slice(1)).test(file)
    else hit ||= globRe(p).test(file)
  }
  return hit
}

const BUILTIN = new Set(builtinModules)
const isBuiltin = (s: string) => s.startsWith('node:') || BUILTIN.has(s.split('/')[0]!)
const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')

/** The production packages electron-builder ships: the dependencies and theirs, from node_modules. */
function productionPackages(): Set<string> {
  const seen = new Set<string>()
  const visit = (name: string) => {
    if (seen.has(name)) return
    seen.add(name)
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
    for (const dep of Object.keys(manifest.dependencies ?? {})) if (fs.existsSync(path.join(ROOT, 'node_modules', dep))) visit(dep)
  }
  for (const dep of Object.keys(pkg.dependencies)) visit(dep)
  return seen
}

/** The engine modules src/main imports at run time: load('x.js') / loadEngine('x.js') in its sources. */
function mainEngineEntries(): string[] {
  const out = new Set<string>()
  for (const f of fs.readdirSync(path.join(ROOT, 'src/main'))) {
    const src = fs.readFileSync(path.join(ROOT, 'src/main', f), 'utf8')
    for (const m of src.matchAll(/\bload(?:Engine)?<[^>]*>\('([^']+\.js)'\)/g)) out.add(`${ENGINE_DIR}/${m[1]}`)
  }
  return [...out]
}

/** Every project file reachable from `entries` (imports, re-exports, dynamic imports, `new URL(...)` and './x.js' strings), and the packages named. */
function importGraph(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const queue = [...entries]
  while (queue.length) {
    const rel = queue.pop()!
    if (files.has(rel)) continue
    files.add(rel)
    if (!/\.(m?js|cjs)$/.test(rel)) continue
    // comments out: prose like "(from 'request' ...)" is not an import
    const src = fs.readFileSync(path.join(ROOT, rel), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    const specs = new Set<string>()
    // `from` as a keyword, not the end of a word such as the flag 'proxy-allow-from'
    for (const m of src.matchAll(/(?:(?<![\w$.-])from\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) specs.add(m[1]!)
    // fork / Worker / subcommand targets are relative file names in strings
    for (const m of src.matchAll(/['"](\.{1,2}\/[^'"]+\.(?:m?js|cjs))['"]/g)) specs.add(m[1]!)
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(rel), spec))
        if (fs.existsSync(path.join(ROOT, target))) queue.push(target)
      } else if (!isBuiltin(spec)) packages.add(packageOf(spec))
    }
  }
  return { files, packages }
}

describe('electron-builder configuration', () => {
  it('packages and unpacks every file the main process and the engine it hosts load', () => {
    const entries = [config.extraMetadata.main, 'out/preload/index.cjs', 'out/renderer/index.html', ...mainEngineEntries(), DEMO_APP]
    expect(mainEngineEntries()).toContain(`${ENGINE_DIR}/host/start.js`)
    const { files, packages } = importGraph(entries)
    // the workers, the binder, the gthread threads and the load runner are forked from files
    for (const forked of ['worker/main.js', 'arbiter/binder-child.js', 'classes/gthread/thread.js']) expect(files).toContain(`${ENGINE_DIR}/${forked}`)
    const notPackaged = [...files].filter((f) => !matches(config.files, f))
    expect(notPackaged).toEqual([])
    const packedButNeededOutside = [...files].filter((f) => !f.startsWith('out/') && !matches(config.asarUnpack, f))
    expect(packedButNeededOutside).toEqual([])

    const prod = productionPackages()
    const notShipped = [...packages].filter((p) => p !== 'electron' && !prod.has(p))
    expect(notShipped, 'imported but not a production dependency').toEqual([])
    const stillPacked = [...prod].filter((p) => !matches(config.asarUnpack, `node_modules/${p}/package.json`))
    expect(stillPacked).toEqual([])
  })

  it('what a running engine loads (master, workers, threads) is packaged and unpacked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-trace-'))
    const trace = path.join(dir, 'loaded.txt')
    fs.writeFileSync(trace, '')
    const tracer = fileURLToPath(new URL('./fixtures/trace-loads.mjs', import.meta.url))
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/paddock.mjs'), 'dashboard', '--port', '0', '-b', '127.0.0.1:0', '-k', 'gthread', '--threads', '2', '-w', '2', '--no-control-socket'], {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: `--import ${pathToFileURL(tracer).href}`, PADDOCK_TRACE_FILE: trace },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    trackProcess(child)
    let out = ''
    child.stdout!.on('data', (d) => (out += d))
    child.stderr!.on('data', (d) => (out += d))
    const exited = new Promise((r) => child.once('exit', r))
    for (const deadline = Date.now() + 30_000; !(/paddock dashboard: (\S+)/.test(out) && /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.test(out)); ) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`dashboard did not start:\n${out}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const page = new URL(out.match(/paddock dashboard: (\S+)/)![1]!)
    expect((await get(Number(page.port), `${page.pathname}${page.search}`)).status).toBe(200)
    const appPort = Number(out.match(/Listening at: http:\/\/127\.0\.0\.1:(\d+)/)![1])
    expect((await get(appPort, '/')).status).toBe(200)
    child.kill('SIGINT')
    await exited

    const loaded = new Set(
      fs.readFileSync(trace, 'utf8').split('\n').filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u.split('?')[0]!)),
    )
    fs.rmSync(dir, { recursive: true, force: true })
    // node_modules may be a link to a shared install: its files count as the package's own
    const modules = fs.realpathSync(path.join(ROOT, 'node_modules'))
    const asPackageFile = (f: string) => (f.startsWith(modules + path.sep) ? path.join('node_modules', path.relative(modules, f)) : f.startsWith(ROOT + path.sep) ? path.relative(ROOT, f) : null)
    const ours = [...loaded].map(asPackageFile).filter((f): f is string => f !== null && !f.startsWith(`test${path.sep}`))
    expect(ours.filter((f) => f.startsWith('node_modules/')).map((f) => packageOf(f.slice(13)))).toContain('ws')
    // the master, 2 workers and their threads all ran: gthread's thread file and the demo app were loaded
    expect(ours).toContain(`${ENGINE_DIR}/classes/gthread/thread.js`)
    expect(ours).toContain(DEMO_APP)
    const prod = productionPackages()
    const missing = ours.filter((f) => {
      if (f === 'bin/paddock.mjs') return false // the CLI, not part of the desktop app
      if (f.startsWith('node_modules/')) {
        const name = packageOf(f.slice('node_modules/'.length))
        return !prod.has(name) || !matches(config.asarUnpack, f)
      }
      return !matches(config.files, f) || !matches(config.asarUnpack, f)
    })
    expect(missing).toEqual([])
  })

  it('keeps the RunAsNode fuse, starts from the built main and has an icon for each platform', () => {
    expect(config.electronFuses.runAsNode).toBe(true)
    expect(config.extraMetadata.main).toBe('out/main/index.js')
    expect(appPaths(path.join(ROOT, 'out/main')).engine).toBe(path.join(ROOT, ENGINE_DIR))
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']))
    expect(config.mac.target).toContain('dmg')
    expect(config.win.target).toContain('nsis')
    const pngSize = (f: string) => {
      const b = fs.readFileSync(path.join(ROOT, f))
      expect(b.subarray(1, 4).toString()).toBe('PNG')
      return [b.readUInt32BE(16), b.readUInt32BE(20)]
    }
    expect(pngSize(config.icon)).toEqual([1024, 1024])
    expect(pngSize(config.mac.icon)).toEqual([1024, 1024]) // an .icns is derived from 512 or more
    expect(pngSize(config.win.icon)).toEqual([256, 256]) // an .ico needs 256
    for (const size of [16, 32, 48, 64, 128, 256, 512]) expect(pngSize(`${config.linux.icon}/${size}x${size}.png`)).toEqual([size, size])
  })
})
