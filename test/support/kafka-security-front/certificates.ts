/**
 * A throwaway certificate authority and a server certificate signed by it, made with the `openssl` CLI in a
 * temporary directory. The server certificate names 127.0.0.1 (IP SAN) and localhost (DNS SAN): clients verify
 * the SAN against the address they dial (RFC 6125; librdkafka ≥ 2.0 does by default,
 * ssl.endpoint.identification.algorithm=https), and the front advertises 127.0.0.1 in Metadata.
 * EC P-256 keys: valid for every TLS client involved and much faster to generate than RSA on a busy machine.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCertificates {
  readonly dir: string
  /** PEM of the CA certificate (what clients must trust). */
  readonly caFile: string
  readonly caPem: string
  readonly serverKeyPem: string
  /** PEM of the server certificate, signed by the CA. */
  readonly serverCertPem: string
  remove(): Promise<void>
}

const opensslBinary = process.env.OPENSSL ?? 'openssl'

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  const child = Bun.spawn([opensslBinary, ...args], { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited, new Response(child.stdout).text()])
  if (exitCode !== 0) throw new Error(`openssl ${args[0]} failed (exit ${exitCode}): ${stderr.trim()}`)
}

export async function createTestCertificates(commonName = 'kafka-sink test'): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'kafka-security-front-'))
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    await openssl(
      ['req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${commonName} CA`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    )
    await openssl(['req', '-new', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir)
    await writeFile(
      join(dir, 'server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    )
    await openssl(
      ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
        '-days', '2', '-extfile', 'server.ext'],
      dir,
    )
    const [caPem, serverKeyPem, serverCertPem] = await Promise.all(
      ['ca.pem', 'server.key', 'server.pem'].map((name) => readFile(join(dir, name), 'utf8')),
    )
    return { dir, caFile: join(dir, 'ca.pem'), caPem: caPem!, serverKeyPem: serverKeyPem!, serverCertPem: serverCertPem!, remove }
  } catch (error) {
    await remove()
    throw error
  }
}
