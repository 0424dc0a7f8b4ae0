#!/usr/bin/env node
// Security review of the Electron shell in CI: @doyensec/electronegativity over the main and
// preload sources and the built renderer, scanned together so its global checks (CSP,
// navigation limits, permission handler) see the whole app. The tool exits 0 whatever it
// finds, so this script reads its SARIF output and fails on any finding that is not
// justified inline: a comment `electronegativity: CHECK_NAME reason` on the line of the
// finding or the line above it.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = join(root, 'artifacts')
const stage = join(out, 'electronegativity-input')
const sarif = join(out, 'electronegativity.sarif')
const electron = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version

if (!existsSync(join(root, 'out/renderer/index.html'))) {
  console.error('electronegativity: build the app first (npm run build:app)')
  process.exit(1)
}
rmSync(stage, { recursive: true, force: true })
mkdirSync(stage, { recursive: true })
cpSync(join(root, 'src/main'), join(stage, 'main'), { recursive: true })
cpSync(join(root, 'src/preload'), join(stage, 'preload'), { recursive: true })
cpSync(join(root, 'out/renderer'), join(stage, 'renderer'), { recursive: true })
rmSync(sarif, { force: true })

// -e: the Electron version we ship (it cannot look it up offline); -r: paths relative to the input
const r = spawnSync(join(root, 'node_modules/.bin/electronegativity'), ['-i', stage, '-o', sarif, '-r', '-v', 'false', '-e', electron], { encoding: 'utf8' })
if (!existsSync(sarif)) {
  console.error(`electronegativity produced no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`)
  process.exit(1)
}

const results = JSON.parse(readFileSync(sarif, 'utf8')).runs.flatMap((run) => run.results ?? [])
const open = []
for (const f of results) {
  const loc = f.locations?.[0]?.physicalLocation
  const uri = decodeURIComponent(String(loc?.artifactLocation?.uri ?? '').replace(/^file:\/\//, ''))
  const line = loc?.region?.startLine ?? 0
  const file = uri.startsWith('/') ? uri : join(stage, uri)
  let justified = false
  if (existsSync(file) && line > 0) {
    const lines = readFileSync(file, 'utf8').split('\n')
    justified = [lines[line - 1], lines[line - 2]].some((l) => l?.includes(`electronegativity: ${f.ruleId}`))
  }
  const where = `${file.replace(stage + '/', '')}:${line}`
  console.log(`${justified ? 'justified' : 'FINDING  '} ${f.ruleId} at ${where}: ${f.message?.text ?? ''}`)
  if (!justified) open.push(f)
}
console.log(`electronegativity ${electron}: ${results.length} findings, ${open.length} not justified`)
process.exit(open.length ? 1 : 0)
