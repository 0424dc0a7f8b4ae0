/**
 * The pidfile, as nginx and Gunicorn keep it across a binary upgrade: while a new master
 * started by USR2 runs, this master's pid moves to `<pidfile>.oldbin` and the plain name
 * is the new master's; if the new master goes away, this one takes the name back.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { describeError } from '../errors.js'
import type { ErrorLog } from '../log/logger.js'

export class Pidfile {
  /** the file this master wrote and owns: the pidfile setting, or `<pidfile>.oldbin` while a new master runs */
  private owned: string | null = null

  /** `configured`: the pidfile setting now (a reload may change it), null when unset */
  constructor(
    private readonly configured: () => string | null,
    private readonly log: ErrorLog,
  ) {}

  get path(): string | null {
    return this.configured()
  }

  /** At start. */
  write(): void {
    const pidfile = this.configured()
    if (!pidfile) return
    writeFileSync(pidfile, `${process.pid}\n`)
    this.owned = pidfile
  }

  /** Before a USR2 starts a new master: rename first, so that its pidfile never overwrites ours. */
  moveAside(): void {
    const pidfile = this.configured()
    if (!pidfile || this.owned !== pidfile) return
    try {
      renameSync(pidfile, `${pidfile}.oldbin`)
      this.owned = `${pidfile}.oldbin`
    } catch (err) {
      this.log.warning(`could not rename the pidfile ${pidfile} to ${pidfile}.oldbin: ${describeError(err)}`)
    }
  }

  /** The new master is gone (or never started): this one is the service's master again. */
  restore(): void {
    const pidfile = this.configured()
    if (!pidfile || this.owned === pidfile) return
    try {
      writeFileSync(pidfile, `${process.pid}\n`)
      if (this.owned) unlinkSync(this.owned)
      this.owned = pidfile
    } catch (err) {
      this.log.warning(`could not restore the pidfile ${pidfile}: ${describeError(err)}`)
    }
  }

  /** At stop: only a pidfile that still names this master; after a USR2 the plain name belongs to the new one. */
  remove(): void {
    if (!this.owned) return
    try {
      if (Number(readFileSync(this.owned, 'utf8').trim()) === process.pid) unlinkSync(this.owned)
    } catch {
      // already gone
    }
  }
}
