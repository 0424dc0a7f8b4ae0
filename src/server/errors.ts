/**
 * Every error a user can see comes from here, with a stable code and a message
 * that says what went wrong and what to do (fastify's habit).
 */
export type PaddockErrorCode =
  | 'PADDOCK_ERR_CONFIG'
  | 'PADDOCK_ERR_USAGE'
  | 'PADDOCK_ERR_BIND'
  | 'PADDOCK_ERR_APP_NOT_FOUND'
  | 'PADDOCK_ERR_APP_LOAD'
  | 'PADDOCK_ERR_APP_EXPORT'
  | 'PADDOCK_ERR_BOOT'
  | 'PADDOCK_ERR_PROTOCOL'
  | 'PADDOCK_ERR_AUTH'
  | 'PADDOCK_ERR_BAD_COMMAND'
  | 'PADDOCK_ERR_INVALID_VALUE'
  | 'PADDOCK_ERR_UNKNOWN_SETTING'
  | 'PADDOCK_ERR_NO_SUCH_WORKER'
  | 'PADDOCK_ERR_BUSY'
  | 'PADDOCK_ERR_STATE'
  | 'PADDOCK_ERR_CONTROL'
  | 'PADDOCK_ERR_INTERNAL'

export class PaddockError extends Error {
  readonly code: PaddockErrorCode
  constructor(code: PaddockErrorCode, message: string, options?: { cause?: unknown }) {
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
