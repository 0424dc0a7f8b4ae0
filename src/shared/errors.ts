/**
 * Every error code paddock uses, in one table (fastify's lib/errors.js habit). The engine's
 * PaddockError (src/server/errors.ts) and the control protocol's ControlError both take
 * their code types from it, so a code cannot exist in one layer and not the other.
 *
 * - `exit`: the status the `paddock` command exits with when this error stops it
 *   (2: fix the command line or the config; 4: the app cannot be served; 1: anything else).
 * - `sentAs`: a code that only the engine raises reaches control clients as a protocol
 *   code, so a client handles one closed set: a bad value is PADDOCK_ERR_INVALID_VALUE
 *   whether the settings table or a command refused it. A code without `sentAs` is a
 *   protocol code and travels as itself.
 *
 * No runtime dependencies: the renderer imports this file too.
 */

interface ErrorCodeSpec {
  meaning: string
  exit: 1 | 2 | 4
  sentAs?: string
}

export const ERROR_CODES = {
  PADDOCK_ERR_CONFIG: { meaning: 'a setting or the config file has a value paddock cannot use', exit: 2, sentAs: 'PADDOCK_ERR_INVALID_VALUE' },
  PADDOCK_ERR_USAGE: { meaning: 'the command line is not understood', exit: 2, sentAs: 'PADDOCK_ERR_INVALID_VALUE' },
  PADDOCK_ERR_BIND: { meaning: 'an address could not be listened on', exit: 1, sentAs: 'PADDOCK_ERR_INTERNAL' },
  PADDOCK_ERR_APP_NOT_FOUND: { meaning: 'the app module does not exist', exit: 4, sentAs: 'PADDOCK_ERR_INTERNAL' },
  PADDOCK_ERR_APP_LOAD: { meaning: 'the app module threw while it was loaded', exit: 4, sentAs: 'PADDOCK_ERR_INTERNAL' },
  PADDOCK_ERR_APP_EXPORT: { meaning: 'the app module does not export an app paddock can call', exit: 4, sentAs: 'PADDOCK_ERR_INTERNAL' },
  PADDOCK_ERR_BOOT: { meaning: 'a new generation of workers failed to boot; the old one keeps serving', exit: 4 },
  PADDOCK_ERR_PROTOCOL: { meaning: 'the client speaks another protocol version, or sent frames out of order or too large', exit: 1 },
  PADDOCK_ERR_AUTH: { meaning: 'the dashboard token is missing or wrong', exit: 1 },
  PADDOCK_ERR_BAD_COMMAND: { meaning: 'a frame or command is not of the protocol shape', exit: 1 },
  PADDOCK_ERR_INVALID_VALUE: { meaning: 'a command carries a value the server does not accept', exit: 1 },
  PADDOCK_ERR_UNKNOWN_SETTING: { meaning: 'no setting has that name', exit: 1 },
  PADDOCK_ERR_NO_SUCH_WORKER: { meaning: 'no live worker has that pid', exit: 1 },
  PADDOCK_ERR_BUSY: { meaning: 'the same kind of work is already under way', exit: 1 },
  PADDOCK_ERR_STATE: { meaning: 'the command cannot run in the current state of the server', exit: 1 },
  PADDOCK_ERR_INTERNAL: { meaning: 'an unexpected failure (a bug, or a lost connection on the client side)', exit: 1 },
} as const satisfies Record<`PADDOCK_ERR_${string}`, ErrorCodeSpec>

type Table = typeof ERROR_CODES

/** Any code the engine may raise. */
export type ErrorCode = keyof Table

/** The codes a control client receives: those of the table without a `sentAs`. */
export type ControlErrorCode = { [K in ErrorCode]: Table[K] extends { sentAs: string } ? never : K }[ErrorCode]

/** The code a control client sees for an engine error. */
export function controlCode(code: ErrorCode): ControlErrorCode {
  const spec: ErrorCodeSpec = ERROR_CODES[code]
  return (spec.sentAs ?? code) as ControlErrorCode
}

