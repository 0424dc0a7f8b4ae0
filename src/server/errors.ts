/**
 * Every error a user can see comes from here, with a stable code and a message
 * that says what went wrong and what to do (fastify's habit).
 */
import { ERROR_CODES, type ErrorCode } from '../shared/errors.js'

export class PaddockError extends Error {
  /** One of the table in src/shared/errors.ts, which the control protocol shares. */
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PaddockError'
    this.code = code
  }
}

export function isPaddockError(err: unknown): err is PaddockError {
  return err instanceof PaddockError
}

/** One line for a terminal: `paddock: <message>` without a stack. */
export function describeError(err: unknown): string {
  if (err instanceof PaddockError) return err.message
  if (err instanceof Error) return err.message
  return String(err)
}

/** The status the `paddock` command exits with when this error stops it (see ERROR_CODES). */
export function exitStatus(err: unknown): number {
  return err instanceof PaddockError ? ERROR_CODES[err.code].exit : 1
}
