#!/usr/bin/env node
// The `paddock` command. The engine is TypeScript compiled to dist/ by `npm run build:server`
// (run for you by `npm install` through the prepare script).
import { existsSync } from 'node:fs'

const entry = new URL('../dist/server/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('paddock: the engine is not built yet: run `npm run build:server` (npm install does it for you)\n')
  process.exit(1)
}
const { main } = await import(entry.href)
await main(process.argv.slice(2))
