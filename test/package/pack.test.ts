/**
 * paddock as a user gets it: `npm pack` (prepack builds the engine and the renderer), then
 * `npm install` of that tarball into an empty project under a path with a space, and from
 * there: --help, serving an app, --check-config with a typed paddock.config.ts (and tsc
 * over it), the browser dashboard's page, and startServer() from code.
 * Dependencies come from the registry through npm's cache (--prefer-offline).
 */
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, ROOT as ROOT_URL_PATH, stopAll, trackProcess } from '../helpers/proc.js'

const ROOT = path.resolve(ROOT_URL_PATH)
const run = promisify(execFile)
const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }
let tmp: string
let project: string
let packed: { filename: string; files: { path: string }[] }
const paddock = () => path.join(project, 'node_modules/.bin/paddock')

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddock pack '))
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, env, maxBuffer: 64 << 20 })
  // npm prints the build's output before the JSON
  packed = JSON.parse(stdout.slice(stdout.indexOf('[\n')))[0]
  project = path.join(tmp, 'my app')
  fs.mkdirSync(project)
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'try-paddock', private: true, type: 'module' }))
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp, packed.filename)], { cwd: project, env, maxBuffer: 64 << 20 })
  fs.writeFileSync(path.join(project, 'app.mjs'), "export default (req, res) => res.end('hello from my app')\n")
})
afterAll(async () => {
  await stopAll()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

/** Start a long-running command from the project and wait for a line of its output. */
async function startUntil(args: string[], re: RegExp): Promise<{ match: RegExpMatchArray; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(paddock(), args, { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] })
  trackProcess(child)
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise((r) => child.once('exit', r))
  for (const deadline = Date.now() + 30_000; !re.test(out); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${re} from paddock ${args.join(' ')}:\n${out}`)
  }
  return {
    match: out.match(re)!,
    output: () => out,
    stop: async () => {
      child.kill('SIGINT')
      await exited
    },
  }
}

describe('the npm package', () => {
  it('ships the built engine, renderer, demo and licence, and no tests or sources', () => {
    const files = packed.files.map((f) => f.path)
    for (const f of ['bin/paddock.mjs', 'dist/server/index.js', 'dist/server/index.d.ts', 'dist/server/worker/main.js', 'out/renderer/index.html', 'resources/demo/app.mjs', 'LICENSE', 'README.md', 'package.json']) expect(files).toContain(f)
    expect(files.filter((f) => /^(test|src|bench|scripts)\//.test(f) || /\.test\.|\.map$/.test(f))).toEqual([])
    expect(files.filter((f) => f.startsWith('out/main') || f.startsWith('out/preload'))).toEqual([])
  })

  it('installed under a path with a space: --help, an app served, and --check-config with a typed paddock.config.ts', async () => {
    expect(project).toContain(' ')
    const help = await run(paddock(), ['--help'], { cwd: project, env })
    expect(help.stdout).toMatch(/^usage: paddock \[OPTIONS\] MODULE/)

    const served = await startUntil(['-b', '127.0.0.1:0', '--no-control-socket', 'app.mjs'], /Listening at: http:\/\/127\.0\.0\.1:(\d+)/)
    const reply = await get(Number(served.match[1]), '/')
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('hello from my app')
    await served.stop()

    fs.writeFileSync(
      path.join(project, 'paddock.config.ts'),
      "import { defineConfig } from 'paddock'\n\nexport default defineConfig({\n  app: './app.mjs',\n  workers: 2,\n  worker_class: 'gthread',\n  threads: 4,\n  bind: ['127.0.0.1:0'],\n  when_ready(arbiter) {\n    arbiter.snapshot()\n  },\n})\n",
    )
    const check = await run(paddock(), ['--check-config'], { cwd: project, env })
    expect(check.stdout).toMatch(/configuration and app .*app\.mjs are valid/)

    // the types reach a TypeScript user: the good config compiles, a wrong value and a misspelt name do not
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
    const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, typeRoots: [path.join(ROOT, 'node_modules/@types')], types: ['node'] } }
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['paddock.config.ts'] }))
    await run(process.execPath, [tsc, '-p', project], { cwd: project, env })
    fs.writeFileSync(path.join(project, 'bad.config.ts'), "import { defineConfig } from 'paddock'\nexport default defineConfig({ worker_class: 'threads' })\nexport const misspelt = defineConfig({ wrokers: 2 })\n")
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['bad.config.ts'] }))
    const bad = await run(process.execPath, [tsc, '-p', project], { cwd: project, env }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    )
    expect(bad).toMatch(/'"threads"' is not assignable/)
    expect(bad).toMatch(/'wrokers' does not exist/)
    fs.rmSync(path.join(project, 'bad.config.ts'))
  })

  it('paddock dashboard serves its page from the installed package, and startServer() runs an app from code', async () => {
    const dash = await startUntil(['dashboard', '--port', '0', '-b', '127.0.0.1:0', '--no-control-socket', 'app.mjs'], /paddock dashboard: (http:\S+)/)
    const url = new URL(dash.match[1]!)
    const page = await get(Number(url.port), `${url.pathname}${url.search}`)
    expect(page.status).toBe(200)
    expect(page.body).toMatch(/<script type="module"/)
    await dash.stop()

    fs.writeFileSync(
      path.join(project, 'embed.mjs'),
      [
        "import { startServer } from 'paddock'",
        "const server = await startServer({ app: './app.mjs', bind: ['127.0.0.1:0'], workers: 1, no_control_socket: true, loglevel: 'warning' })",
        "const res = await fetch(`http://${server.addresses[0]}/`)",
        'console.log(`status ${res.status}: ${await res.text()}; workers ${server.api.snapshot().targetWorkers}`)',
        "await server.stop('quick')",
      ].join('\n'),
    )
    const embed = await run(process.execPath, ['embed.mjs'], { cwd: project, env, timeout: 30_000 })
    expect(embed.stdout.trim()).toBe('status 200: hello from my app; workers 1')
  })
})
