/**
 * A throw-away certificate authority for TLS tests, made with the openssl command (Node's
 * crypto cannot issue X.509 certificates): a CA, server certificates for 127.0.0.1 and a
 * client certificate, all signed by it. EC P-256 keys: quick to make.
 */
import { execFileSync } from 'node:child_process'
import https from 'node:https'
import type tls from 'node:tls'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Issued {
  cert: string
  key: string
}

export interface TestCa {
  dir: string
  /** path of the CA certificate */
  caFile: string
  ca: Buffer
  /** a certificate and key signed by this CA, as files in `dir` */
  issue(name: string, cn: string, usage: 'server' | 'client'): Issued
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-ca-'))
  openssl(['req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=paddock test CA'], dir)
  const caFile = join(dir, 'ca.pem')
  return {
    dir,
    caFile,
    ca: readFileSync(caFile),
    issue(name, cn, usage) {
      openssl(['req', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir)
      const ext = usage === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n'
      writeFileSync(join(dir, `${name}.ext`), ext)
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir)
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
    },
  }
}

/** One HTTPS GET on a fresh connection; `cn` is the common name of the certificate the server showed. */
export function httpsGet(port: number, path: string, opts: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string; cn: string | undefined }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', port, path, agent: false, ca: opts.ca, cert: opts.cert, key: opts.key, ALPNProtocols: ['http/1.1'] }
    const req = https.request(options, (res) => {
      const cn = (res.socket as tls.TLSSocket).getPeerCertificate()?.subject?.CN as string | undefined
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, body, cn }))
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
    req.end()
  })
}

