/**
 * The deployment examples in deploy/ say what they mean: every KAFKA_SINK_* variable they set is one the binary
 * reads, the systemd unit is valid and its environment starts a working instance, the Kubernetes sidecar probes the
 * health routes, runs as the image's user and takes its secrets from a Secret, and compose builds deploy/Dockerfile.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRig, type Rig } from '../../support/rig.ts'
import { sinkBinary, startSinkProcess } from '../../support/sink-process.ts'

const deployDirectory = join(import.meta.dir, '..', '..', '..', 'deploy')
const read = (relative: string) => readFileSync(join(deployDirectory, relative), 'utf8')
const exampleFiles = ['Dockerfile', 'compose.yaml', 'kubernetes/kurrentdb-with-kafka-sink.yaml', 'systemd/kafka-sink.service', 'systemd/kafka-sink.env']

function environmentTwinsOfTheBinary(): Set<string> {
  const help = spawnSync(sinkBinary, ['--help'], { encoding: 'utf8' }).stdout
  return new Set([...help.matchAll(/\[env (KAFKA_SINK_[A-Z_]+)\]/g)].map((match) => match[1]!))
}

interface Container {
  name: string
  image: string
  env?: Array<{ name: string; value?: string }>
  livenessProbe?: { httpGet: { path: string; port: string } }
  readinessProbe?: { httpGet: { path: string; port: string } }
  ports?: Array<{ name: string; containerPort: number }>
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean }
  volumeMounts?: Array<{ name: string; mountPath: string }>
}

describe('deploy/ examples', () => {
  test('every KAFKA_SINK_* variable they set is one the binary reads', () => {
    const known = environmentTwinsOfTheBinary()
    expect(known.size).toBeGreaterThan(5)
    for (const file of exampleFiles) {
      const used = new Set([...read(file).matchAll(/\b(KAFKA_SINK_[A-Z_]+)\b/g)].map((match) => match[1]!))
      for (const name of used) expect({ file, name, known: known.has(name) }).toEqual({ file, name, known: true })
    }
  })

  test('the Kubernetes sidecar probes the health routes, runs as the image user, and reads its secrets from a Secret', () => {
    const documents = Bun.YAML.parse(read('kubernetes/kurrentdb-with-kafka-sink.yaml')) as Array<Record<string, any>>
    const statefulSet = documents.find((document) => document.kind === 'StatefulSet')!
    const pod = statefulSet.spec.template.spec
    const sidecar = (pod.containers as Container[]).find((container) => container.name === 'kafka-sink')!
    expect((pod.containers as Container[]).map((container) => container.name)).toEqual(['kurrentdb', 'kafka-sink'])
    expect(sidecar.livenessProbe!.httpGet).toEqual({ path: '/health/live', port: 'kafka-sink' })
    expect(sidecar.readinessProbe!.httpGet).toEqual({ path: '/health/ready', port: 'kafka-sink' })
    expect(sidecar.ports!.find((port) => port.name === 'kafka-sink')!.containerPort).toBe(2114)
    const imageUser = read('Dockerfile').match(/^USER (\d+):\d+$/m)![1]
    expect(sidecar.securityContext!.runAsUser).toBe(Number(imageUser))
    const env = Object.fromEntries(sidecar.env!.map((entry) => [entry.name, entry.value]))
    expect(env.KAFKA_SINK_KURRENTDB).toStartWith('kurrentdb+discover://localhost:2113')
    expect(env).not.toHaveProperty('KAFKA_SINK_API_PASSWORD')
    expect(env).not.toHaveProperty('KAFKA_SINK_DATA_PROTECTION_TOKEN')
    const secretMount = sidecar.volumeMounts!.find((mount) => env.KAFKA_SINK_API_PASSWORD_FILE?.startsWith(mount.mountPath + '/'))!
    const secretVolume = (pod.volumes as Array<Record<string, any>>).find((volume) => volume.name === secretMount.name)!
    expect(secretVolume.secret.secretName).toBe('kafka-sink')
    expect(env.KAFKA_SINK_DATA_PROTECTION_TOKEN_FILE).toStartWith(secretMount.mountPath + '/')
  })

  test('compose builds deploy/Dockerfile and hands secrets over as files', () => {
    const compose = Bun.YAML.parse(read('compose.yaml')) as Record<string, any>
    const sink = compose.services['kafka-sink']
    expect(sink.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' })
    expect(Object.keys(sink.environment)).not.toContain('KAFKA_SINK_API_PASSWORD')
    for (const secret of sink.secrets as string[]) expect(Object.values(sink.environment)).toContain(`/run/secrets/${secret}`)
  })

  describe('the systemd unit', () => {
    let rig: Rig
    let work: string
    beforeAll(async () => {
      rig = await startRig({ brokers: 1 })
      work = mkdtempSync(join(tmpdir(), 'kafka-sink-unit-'))
    })
    afterAll(async () => {
      await rig?.close()
      rmSync(work, { recursive: true, force: true })
    })

    test('is valid to systemd-analyze', () => {
      // ExecStart points at the built binary so that verify can check it is executable.
      const unit = join(work, 'kafka-sink.service')
      writeFileSync(unit, read('systemd/kafka-sink.service').replace(/^ExecStart=\S+/m, `ExecStart=${sinkBinary}`))
      const verified = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
      expect(verified.stderr.trim()).toBe('')
      expect(verified.status).toBe(0)
    })

    test('its environment, as systemd passes it, starts an instance that serves and is ready', async () => {
      const unit = read('systemd/kafka-sink.service')
      const credentials = join(work, 'credentials')
      spawnSync('mkdir', ['-p', credentials])
      for (const match of unit.matchAll(/^LoadCredential=([^:]+):/gm)) {
        writeFileSync(join(credentials, match[1]!), `${match[1]}-value`)
        chmodSync(join(credentials, match[1]!), 0o400)
      }
      const fromUnit = [...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map(([, name, value]) => [name!, value!.replace('%d', credentials)])
      const fromFile = read('systemd/kafka-sink.env').split('\n').filter((line) => /^[A-Z_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
      const server = createServer()
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const port = String((server.address() as { port: number }).port)
      await new Promise((resolve) => server.close(resolve))
      // Only the addresses change: this machine's KurrentDB is the rig's, and the port must be free.
      const env = { ...Object.fromEntries([...fromFile, ...fromUnit]), KAFKA_SINK_KURRENTDB: rig.emulator.connectionString, KAFKA_SINK_PORT: port }
      copyFileSync(sinkBinary, join(work, 'kafka-sink'))
      const sink = await startSinkProcess({ kurrentdb: rig.emulator.connectionString, command: [join(work, 'kafka-sink'), 'serve'], configureThroughEnvironment: true, withCredentials: false, env })
      try {
        const unauthorized = await fetch(`${sink.baseUrl}/connectors`)
        expect(unauthorized.status).toBe(401)
        const authorized = await fetch(`${sink.baseUrl}/connectors`, { headers: { authorization: `Basic ${Buffer.from('admin:api-password-value').toString('base64')}` } })
        expect(authorized.status).toBe(200)
      } finally {
        expect(await sink.stop('SIGTERM')).toBe(0)
      }
    })
  })
})
