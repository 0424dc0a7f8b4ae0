/**
 * TLS at the edge, with Gunicorn's settings: certfile, keyfile, ca_certs, cert_reqs
 * (0 none, 1 optional, 2 required: mutual TLS), ciphers, plus tls_min_version and the
 * config file's `ssl_context(settings, options)` hook, which gets Node's TLS options and
 * may change them or return new ones.
 *
 * A worker reads the files when it boots, so a HUP (a new generation) picks up a rotated
 * certificate while the old workers finish their open connections on the old one. The
 * master checks the files first (checkTlsFiles, at start and on every HUP): a bad pair
 * stops the start with exit 2, and on HUP leaves the old generation serving.
 */
import { readFileSync } from 'node:fs'
import tls from 'node:tls'
import { PaddockError } from '../errors.js'

export type SslContextHook = (settings: Record<string, unknown>, options: tls.TlsOptions) => tls.TlsOptions | void

/** TLS is on when a certificate is configured. */
export function tlsEnabled(settings: Record<string, unknown>): boolean {
  return typeof settings.certfile === 'string' && settings.certfile !== ''
}

/** Node's options for the configured files and settings, before the ssl_context hook. */
export function tlsOptionsFrom(settings: Record<string, unknown>): tls.TlsOptions {
  const certfile = String(settings.certfile)
  const keyfile = settings.keyfile ? String(settings.keyfile) : certfile
  const certReqs = Number(settings.cert_reqs ?? 0)
  const options: tls.TlsOptions = {
    cert: readSetting('certfile', certfile),
    key: readSetting(settings.keyfile ? 'keyfile' : 'certfile', keyfile),
    minVersion: (settings.tls_min_version as tls.SecureVersion | undefined) ?? 'TLSv1.2',
    // HTTP/1.1 is what every class speaks; offering it lets ALPN clients settle at once
    ALPNProtocols: ['http/1.1'],
    requestCert: certReqs > 0,
    // cert_reqs 1 (optional): a client certificate is asked for and checked when given;
    // the app reads req.socket.authorized / getPeerCertificate()
    rejectUnauthorized: certReqs === 2,
  }
  if (settings.ca_certs) options.ca = readSetting('ca_certs', String(settings.ca_certs))
  if (settings.ciphers) options.ciphers = String(settings.ciphers)
  return options
}

/** The options with the ssl_context hook applied. */
export function finalTlsOptions(settings: Record<string, unknown>, hook?: SslContextHook): tls.TlsOptions {
  const options = tlsOptionsFrom(settings)
  if (!hook) return options
  return hook(settings, options) ?? options
}

/**
 * The configured files can be read and make a working context (the key matches the
 * certificate, the CA file parses, the ciphers are known): one error naming the file and
 * the reason otherwise.
 */
export function checkTlsFiles(settings: Record<string, unknown>): void {
  if (!tlsEnabled(settings)) {
    for (const name of ['keyfile', 'ca_certs'] as const) {
      if (settings[name]) throw new PaddockError('PADDOCK_ERR_CONFIG', `--${flagOf(name)} ${settings[name]} is set but --certfile is not: TLS needs a certificate`)
    }
    if (Number(settings.cert_reqs ?? 0) > 0) throw new PaddockError('PADDOCK_ERR_CONFIG', '--cert-reqs asks for client certificates but --certfile is not set: TLS needs a certificate')
    return
  }
  const certReqs = Number(settings.cert_reqs ?? 0)
  if (![0, 1, 2].includes(certReqs)) throw new PaddockError('PADDOCK_ERR_CONFIG', `--cert-reqs ${certReqs}: expected 0 (none), 1 (optional) or 2 (required)`)
  if (certReqs > 0 && !settings.ca_certs) throw new PaddockError('PADDOCK_ERR_CONFIG', `--cert-reqs ${certReqs} checks client certificates against --ca-certs, which is not set`)
  const options = tlsOptionsFrom(settings)
  try {
    tls.createSecureContext(options)
  } catch (err) {
    throw new PaddockError('PADDOCK_ERR_CONFIG', contextError(settings, err as NodeJS.ErrnoException))
  }
}

function readSetting(name: 'certfile' | 'keyfile' | 'ca_certs', path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message
    throw new PaddockError('PADDOCK_ERR_CONFIG', `--${flagOf(name)} ${path}: cannot read it: ${why}`)
  }
}

/** Which file OpenSSL's complaint is about, in words a user can act on. */
function contextError(settings: Record<string, unknown>, err: NodeJS.ErrnoException): string {
  const certfile = String(settings.certfile)
  const keyfile = settings.keyfile ? String(settings.keyfile) : certfile
  const msg = err.message ?? String(err)
  if (/KEY_VALUES_MISMATCH|key values mismatch/i.test(msg)) return `--keyfile ${keyfile} does not match --certfile ${certfile}: the private key is not the certificate's`
  if (/cipher/i.test(msg) && settings.ciphers) return `--ciphers ${settings.ciphers}: ${msg}`
  if (/PEM_read_bio_PrivateKey|DECODER|bad decrypt|private key|NO_START_LINE.*key/i.test(msg) && !/certificate/i.test(msg)) return `--keyfile ${keyfile}: not a usable private key (PEM): ${msg}`
  if (settings.ca_certs && /ca|X509_STORE|add_cert/i.test(msg) && !/PEM_read_bio_X509_AUX|private/i.test(msg)) return `--ca-certs ${settings.ca_certs}: ${msg}`
  if (/PEM|X509|certificate|NO_START_LINE|ASN1/i.test(msg)) return `--certfile ${certfile}: not a usable certificate (PEM): ${msg}`
  return `--certfile ${certfile} / --keyfile ${keyfile}: ${msg}`
}

function flagOf(name: string): string {
  return name.replace(/_/g, '-')
}
