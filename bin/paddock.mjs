#!/usr/bin/env node
// The `paddock` command. The engine is TypeScript compiled to dist/: the published package
// ships it (prepack builds it); a git clone builds it on `npm install` (the prepare script).
import { existsSync } from 'node:fs'

const entry = new URL('../dist/server/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('paddock: the engine is not built (no dist/server): in a git clone, run `npm run build:server`\n')
  process.exit(1)
}
const { main } = await import(entry.href)
await main(process.argv.slice(2))
