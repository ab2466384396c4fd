/** A self-signed TLS certificate for 127.0.0.1, made by the openssl binary, for HTTPS tests. */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

export function makeSelfSignedCertificate(
  dir: string,
  commonName = '127.0.0.1',
): { cert: string; key: string } {
  const cert = join(dir, 'tls.crt')
  const key = join(dir, 'tls.key')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { cert, key }
}
