/**
 * `--reload` for development: watch the app's source tree (and any --reload-extra-file) and
 * do a rolling reload when something changes. Unlike Gunicorn's reloader, which restarts
 * workers into a broken file and lets them crash-loop, this goes through the same
 * readiness-gated reload as HUP: a save with a syntax error leaves the last good generation
 * serving and the log says why, and the next good save is picked up.
 *
 * fs.watch is recursive on Linux from Node 20 on, and on macOS and Windows natively; it
 * reports bursts (an editor's write + rename), so changes are debounced.
 */
import { watch, type FSWatcher } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'

/** Directories whose changes are never the app's own source. */
const IGNORED = /(^|[/\\])(node_modules|\.git|\.hg|\.svn|\.cache|coverage|dist-ssr)([/\\]|$)/
/** Editor droppings: swap, backup and temporary files. */
const SCRATCH = /(\.swp|\.swx|\.tmp|~|\.DS_Store)$|(^|[/\\])(\.#|#)[^/\\]*$|(^|[/\\])4913$/

export interface ReloaderOptions {
  /** the directory holding the app module: watched recursively */
  root: string
  /** files watched one by one (config file, --reload-extra-file) */
  extraFiles?: string[]
  debounceMs?: number
  onChange(files: string[]): void
  onError?(err: Error): void
}

export interface Reloader {
  close(): void
}

export function startReloader(o: ReloaderOptions): Reloader {
  const watchers: FSWatcher[] = []
  const changed = new Set<string>()
  let timer: NodeJS.Timeout | null = null
  const debounceMs = o.debounceMs ?? 250
  const root = resolve(o.root)

  const note = (file: string) => {
    // an empty name: another file in the directory of an extra file, not one we watch
    if (!file || IGNORED.test(file) || SCRATCH.test(file)) return
    changed.add(file)
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      const files = [...changed].sort()
      changed.clear()
      o.onChange(files)
    }, debounceMs)
    timer.unref()
  }

  const add = (path: string, recursive: boolean, toName: (name: string) => string) => {
    try {
      const w = watch(path, { recursive, persistent: false }, (_event, name) => note(name ? toName(String(name)) : path))
      w.on('error', (err) => o.onError?.(err))
      watchers.push(w)
    } catch (err) {
      o.onError?.(err as Error)
    }
  }

  add(root, true, (name) => name)
  for (const file of o.extraFiles ?? []) {
    const abs = resolve(file)
    // a file outside the app's tree: watch its directory (editors replace files by rename)
    if (!abs.startsWith(root + sep)) {
      const dir = dirname(abs)
      add(dir, false, (name) => (resolve(dir, name) === abs ? relative(root, abs) : ''))
    }
  }

  return {
    close() {
      if (timer) clearTimeout(timer)
      for (const w of watchers) w.close()
    },
  }
}
