/**
 * One table of error codes (src/shared/errors.ts): the engine raises any of them, a control
 * client receives only protocol codes, and the `paddock` command's exit status comes from it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ControlServer } from '../../../src/server/control/control-server.js'
import { exitStatus, PaddockError } from '../../../src/server/errors.js'
import { ERROR_CODES, type ErrorCode } from '../../../src/shared/errors.js'
import { fakeArbiter } from './fake-arbiter.js'

const servers: ControlServer[] = []
afterEach(() => servers.splice(0).forEach((s) => s.close()))

/** A control server whose arbiter's setSetting throws the given engine error. */
function throwingOnSet(err: unknown): ControlServer {
  const arbiter = fakeArbiter()
  arbiter.setSetting = async () => {
    throw err
  }
  const control = new ControlServer(arbiter, { rateHz: 1, sampleMs: 60_000 })
  servers.push(control)
  return control
}

describe('error codes', () => {
  it('every code sent under another name is sent under a protocol code', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      if (!('sentAs' in spec)) continue
      expect(ERROR_CODES, `${code} is sent as ${spec.sentAs}`).toHaveProperty(spec.sentAs)
      expect('sentAs' in ERROR_CODES[spec.sentAs as ErrorCode], `${spec.sentAs} is itself renamed`).toBe(false)
    }
  })

  it('a config error from a command reaches the client as a bad value, with its message', async () => {
    const control = throwingOnSet(new PaddockError('PADDOCK_ERR_CONFIG', 'invalid value for --workers (control): 0: must be at least 1'))
    expect(await control.execute({ cmd: 'config.set', name: 'workers', value: 0 })).toEqual({
      ok: false,
      error: { code: 'PADDOCK_ERR_INVALID_VALUE', message: 'invalid value for --workers (control): 0: must be at least 1' },
    })
  })

  it('a protocol code raised by the engine travels as itself', async () => {
    const control = throwingOnSet(new PaddockError('PADDOCK_ERR_BUSY', 'a reload is under way'))
    expect(await control.execute({ cmd: 'config.set', name: 'workers', value: 3 })).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_BUSY' } })
  })

  it('an engine-only code and a plain exception reach the client as internal errors', async () => {
    const app = throwingOnSet(new PaddockError('PADDOCK_ERR_APP_LOAD', 'app module x.mjs failed to load: boom'))
    expect(await app.execute({ cmd: 'config.set', name: 'workers', value: 3 })).toMatchObject({ ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: 'app module x.mjs failed to load: boom' } })
    const plain = throwingOnSet(new TypeError('oops'))
    expect(await plain.execute({ cmd: 'config.set', name: 'workers', value: 3 })).toEqual({ ok: false, error: { code: 'PADDOCK_ERR_INTERNAL', message: 'oops' } })
  })

  it('the exit status says whether to fix the command line, the app, or something else', () => {
    expect(exitStatus(new PaddockError('PADDOCK_ERR_USAGE', 'x'))).toBe(2)
    expect(exitStatus(new PaddockError('PADDOCK_ERR_CONFIG', 'x'))).toBe(2)
    expect(exitStatus(new PaddockError('PADDOCK_ERR_APP_EXPORT', 'x'))).toBe(4)
    expect(exitStatus(new PaddockError('PADDOCK_ERR_BOOT', 'x'))).toBe(4)
    expect(exitStatus(new PaddockError('PADDOCK_ERR_BIND', 'x'))).toBe(1)
    expect(exitStatus(new Error('x'))).toBe(1)
  })
})
