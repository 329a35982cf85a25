// The Kafka security front (TLS and SASL in front of the plaintext mock cluster), proven with clients that owe
// nothing to the sink: kcat (librdkafka) for the real-world paths, and hand-built protocol frames for the rules
// kcat never exercises (raw SASL tokens, requests before authentication, frames split or batched in chunks).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import tls from 'node:tls'
import { startKafkaSecurityFront, type KafkaSecurityFront, type SaslMechanismName } from '../../support/kafka-security-front.ts'
import { patchApiVersionsResponse, readApiVersionsResponse, saslApiVersions } from '../../support/kafka-security-front/api-versions.ts'
import { readMetadataBrokers, readMetadataRequestTopics, rewriteMetadataResponse } from '../../support/kafka-security-front/metadata.ts'
import { FrameSplitter, framed, Reader, requestBodyOffset, Writer } from '../../support/kafka-security-front/protocol.ts'
import { createUniqueTopic, startKafkaTestBroker, type KafkaTestBroker } from '../../support/kafka-test-broker.ts'
import { produceWithKcat, readTopicWithKcat } from '../../support/kcat.ts'

// These tests wait on processes and on delivery timeouts of a few seconds, on a shared machine.
setDefaultTimeout(60_000)

const users = { alice: 'alice-secret', bob: 'bob-secret' }
// kcat gives up on a message after this long, so tests of failures finish quickly.
const failFast = { 'message.timeout.ms': '3000' }

let broker: KafkaTestBroker
let saslSsl: KafkaSecurityFront<'saslSsl'>
let ssl: KafkaSecurityFront<'ssl'>
let saslPlaintext: KafkaSecurityFront<'saslPlaintext'>

beforeAll(async () => {
  broker = await startKafkaTestBroker({ brokers: 3 })
  ;[saslSsl, ssl, saslPlaintext] = await Promise.all([
    startKafkaSecurityFront({ broker, protocol: 'saslSsl', users }),
    startKafkaSecurityFront({ broker, protocol: 'ssl' }),
    startKafkaSecurityFront({ broker, protocol: 'saslPlaintext', users, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] }),
  ])
})
/** Cleanups registered by tests that start their own fronts; run even when a test fails half-way. */
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
  await Promise.allSettled([saslSsl?.close(), ssl?.close(), saslPlaintext?.close()])
  await broker?.stop()
})

const newTopic = (prefix: string) => createUniqueTopic(broker, prefix, 3)

/** kcat -X properties for a SASL_SSL / SASL_PLAINTEXT / SSL listener of a front. */
function saslSslConfig(mechanism: SaslMechanismName, user: string, password: string, caFile: string): Record<string, string> {
  return { 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': mechanism, 'sasl.username': user, 'sasl.password': password, 'ssl.ca.location': caFile }
}

async function roundTrip(front: KafkaSecurityFront, config: Record<string, string>, prefix: string): Promise<void> {
  const topic = await newTopic(prefix)
  const lines = ['k1|one', 'k2|two', 'k3|three']
  const produced = await produceWithKcat({ bootstrapServers: front.bootstrapServers, topic, lines, keyDelimiter: '|', config })
  expect(produced.stderr).toBe('')
  expect(produced.ok).toBe(true)
  const expected = [
    ['k1', 'one'],
    ['k2', 'two'],
    ['k3', 'three'],
  ]
  const throughFront = await readTopicWithKcat({ bootstrapServers: front.bootstrapServers, topic, expectedCount: 3, timeoutMs: 20_000, config })
  expect(throughFront.map((record) => [record.key, record.value]).sort()).toEqual(expected)
  const direct = await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, expectedCount: 3, timeoutMs: 20_000 })
  expect(direct.map((record) => [record.key, record.value]).sort()).toEqual(expected)
}

async function runKcat(args: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.env.KCAT ?? 'kcat', ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { exitCode, stdout, stderr }
}

describe('kcat through the front', () => {
  test.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)('SASL_SSL with %s: produce, then read back through the front and from the mock', async (mechanism) => {
    await roundTrip(saslSsl, saslSslConfig(mechanism, 'alice', users.alice, saslSsl.caFile), `front-sasl-ssl-${mechanism.toLowerCase()}`)
    expect(saslSsl.requestsSeen().some((seen) => seen.api === 'SaslAuthenticate')).toBe(true)
  })

  test('SSL only: produce and read back', async () => {
    await roundTrip(ssl, { 'security.protocol': 'SSL', 'ssl.ca.location': ssl.caFile }, 'front-ssl')
  })

  test('SASL_PLAINTEXT: produce and read back', async () => {
    const config = { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'bob', 'sasl.password': users.bob }
    await roundTrip(saslPlaintext, config, 'front-sasl-plaintext')
  })

  test('large records cross the front intact both ways (frames spread over many chunks, backpressure)', async () => {
    const topic = await newTopic('front-large')
    // 40 records of 64 KiB: Produce and Fetch frames of several hundred KiB, far larger than a socket chunk. (With
    // 256 KiB records, kcat reading the mock directly, without the front, sometimes misses records: see README.)
    const lines = Array.from({ length: 40 }, (_, index) => `${index}:${String.fromCharCode(97 + (index % 26)).repeat(64 * 1024)}`)
    const config = saslSslConfig('SCRAM-SHA-512', 'bob', users.bob, saslSsl.caFile)
    const produced = await produceWithKcat({ bootstrapServers: saslSsl.bootstrapServers, topic, lines, config })
    expect(produced.ok).toBe(true)
    const read = await readTopicWithKcat({ bootstrapServers: saslSsl.bootstrapServers, topic, expectedCount: lines.length, timeoutMs: 30_000, config })
    expect(read.map((record) => record.value).sort()).toEqual([...lines].sort())
  })

  test('Metadata through the front names the front listeners, one per broker id', async () => {
    const listed = await runKcat(['-L', '-J', '-b', ssl.bootstrapServers, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${ssl.caFile}`])
    expect(listed.exitCode).toBe(0)
    const metadata = JSON.parse(listed.stdout) as { brokers: { id: number; name: string }[] }
    const brokers = metadata.brokers.map((each) => [each.id, each.name]).sort()
    expect(brokers).toEqual(ssl.brokers.map((each) => [each.nodeId, each.front]).sort())
    expect(brokers).toHaveLength(3)
  })

  test('a wrong password is refused with SASL_AUTHENTICATION_FAILED and nothing is written', async () => {
    const topic = await newTopic('front-wrong-password')
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256'] as const) {
      const produced = await produceWithKcat({
        bootstrapServers: saslSsl.bootstrapServers,
        topic,
        lines: ['must-not-arrive'],
        config: { ...saslSslConfig(mechanism, 'alice', 'not-the-password', saslSsl.caFile), ...failFast },
      })
      expect(produced.ok).toBe(false)
      // librdkafka prints the broker's error message: the front answered SaslAuthenticate, not a dropped socket.
      expect(produced.stderr).toContain('SASL authentication error: Authentication failed')
    }
    expect(saslSsl.problems().some((problem) => problem.startsWith('PLAIN authentication failed'))).toBe(true)
    expect(saslSsl.problems().some((problem) => problem.startsWith('SCRAM-SHA-256 authentication failed'))).toBe(true)
    expect(await readTopicWithKcat({ bootstrapServers: broker.bootstrapServers, topic, timeoutMs: 20_000 })).toEqual([])
  })

  test('an unknown user is refused too', async () => {
    const produced = await produceWithKcat({
      bootstrapServers: saslPlaintext.bootstrapServers,
      topic: await newTopic('front-unknown-user'),
      lines: ['must-not-arrive'],
      config: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'mallory', 'sasl.password': 'x', ...failFast },
    })
    expect(produced.ok).toBe(false)
    expect(produced.stderr).toContain('SASL authentication error')
  })

  test('a client that does not trust the CA fails the TLS handshake', async () => {
    // The saslSsl front's CA did not sign the ssl front's certificate.
    const produced = await produceWithKcat({
      bootstrapServers: ssl.bootstrapServers,
      topic: await newTopic('front-untrusted'),
      lines: ['must-not-arrive'],
      config: { 'security.protocol': 'SSL', 'ssl.ca.location': saslSsl.caFile, ...failFast },
    })
    expect(produced.ok).toBe(false)
    expect(produced.stderr).toContain('certificate verify failed')
  })
})

// Hand-built frames against the SASL_PLAINTEXT front (plain TCP keeps the client small).
describe('the front at the protocol level', () => {
  const clientId = 'raw-test'

  function request(apiKey: number, apiVersion: number, correlationId: number, body: Writer, flexible = false): Buffer {
    const header = new Writer().int16(apiKey).int16(apiVersion).int32(correlationId).nullableString(clientId)
    if (flexible) header.noTaggedFields()
    return framed(Buffer.concat([header.build(), body.build()]))
  }
  const apiVersionsV1 = (correlationId: number) => request(18, 1, correlationId, new Writer())
  const handshake = (version: number, correlationId: number, mechanism: string) =>
    request(17, version, correlationId, new Writer().nullableString(mechanism))
  const plainToken = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`)
  const authenticateV1 = (correlationId: number, token: Buffer) => request(36, 1, correlationId, new Writer().classicBytes(token))
  const metadataV1 = (correlationId: number) => request(3, 1, correlationId, new Writer().int32(0))

  /** A raw client (TLS when the front has a CA) that collects response frames and sees the front close the connection. */
  async function connect(front: KafkaSecurityFront): Promise<{
    socket: net.Socket
    frames: (count: number) => Promise<Buffer[]>
    closed: Promise<void>
  }> {
    const [host, port] = front.bootstrapServers.split(',')[0]!.split(':') as [string, string]
    const socket =
      front.caFile === undefined
        ? net.connect({ host, port: Number(port) })
        : tls.connect({ host, port: Number(port), ca: await readFile(front.caFile, 'utf8') })
    const connected = front.caFile === undefined ? 'connect' : 'secureConnect'
    await new Promise<void>((resolve, reject) => socket.once(connected, resolve).once('error', reject))
    const splitter = new FrameSplitter()
    const received: Buffer[] = []
    let wake: (() => void) | undefined
    socket.on('data', (chunk: Buffer) => {
      received.push(...splitter.push(chunk))
      wake?.()
    })
    socket.on('error', () => undefined)
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    void closed.then(() => wake?.())
    let isClosed = false
    void closed.then(() => (isClosed = true))
    const frames = async (count: number) => {
      while (received.length < count && !isClosed) await new Promise<void>((resolve) => (wake = resolve))
      if (received.length < count) throw new Error(`connection closed after ${received.length} of ${count} responses`)
      return received.splice(0, count)
    }
    return { socket, frames, closed }
  }

  const correlationOf = (frame: Buffer) => frame.readInt32BE(0)
  const errorCodeAfterHeader = (frame: Buffer) => frame.readInt16BE(4)

  test('ApiVersions advertises SaslHandshake v0–1 and SaslAuthenticate v0–2 next to the broker APIs', async () => {
    const client = await connect(saslPlaintext)
    try {
      for (const version of [0, 1, 2]) {
        client.socket.write(request(18, version, 10 + version, new Writer()))
        const [frame] = await client.frames(1)
        const { errorCode, ranges } = readApiVersionsResponse(frame!, version)
        expect(errorCode).toBe(0)
        expect(ranges).toContainEqual({ apiKey: 17, minVersion: 0, maxVersion: 1 })
        expect(ranges).toContainEqual({ apiKey: 36, minVersion: 0, maxVersion: 2 })
        expect(ranges.find((range) => range.apiKey === 0)).toBeDefined() // Produce, from the mock
      }
    } finally {
      client.socket.destroy()
    }
  })

  test('requests batched in one chunk and split byte by byte get their answers in order', async () => {
    const client = await connect(saslPlaintext)
    try {
      const bytes = Buffer.concat([apiVersionsV1(1), handshake(1, 2, 'PLAIN'), authenticateV1(3, plainToken('alice', users.alice)), metadataV1(4)])
      // First half in single bytes, the rest in one write: frames straddle chunks and chunks hold several frames.
      const half = Math.floor(bytes.length / 2)
      for (let index = 0; index < half; index++) {
        client.socket.write(bytes.subarray(index, index + 1))
        if (index % 16 === 0) await Bun.sleep(1)
      }
      client.socket.write(bytes.subarray(half))
      const responses = await client.frames(4)
      expect(responses.map(correlationOf)).toEqual([1, 2, 3, 4])
      expect(errorCodeAfterHeader(responses[1]!)).toBe(0) // handshake
      expect(errorCodeAfterHeader(responses[2]!)).toBe(0) // authenticate
      const brokers = readMetadataBrokers(responses[3]!, 1).map((each) => `${each.host}:${each.port}`).sort()
      expect(brokers).toEqual(saslPlaintext.bootstrapServers.split(',').sort())
    } finally {
      client.socket.destroy()
    }
  })

  test('own answers keep their place when a slow broker answer arrives after later requests were forwarded', async () => {
    // The broker answers ApiVersions late; meanwhile the front answers the handshake and authentication itself and
    // forwards Metadata. The client must still see 1, 2, 3, 4.
    await broker.setRoundTripTime(-1, 300)
    const client = await connect(saslPlaintext)
    try {
      client.socket.write(Buffer.concat([apiVersionsV1(1), handshake(1, 2, 'PLAIN'), authenticateV1(3, plainToken('alice', users.alice)), metadataV1(4)]))
      const responses = await client.frames(4)
      expect(responses.map(correlationOf)).toEqual([1, 2, 3, 4])
    } finally {
      client.socket.destroy()
      await broker.setRoundTripTime(-1, 0)
    }
  })

  test('a SaslHandshake v0 is followed by raw SASL tokens (the pre-SaslAuthenticate flow)', async () => {
    const client = await connect(saslPlaintext)
    try {
      client.socket.write(handshake(0, 1, 'PLAIN'))
      const [handshakeResponse] = await client.frames(1)
      expect(errorCodeAfterHeader(handshakeResponse!)).toBe(0)
      client.socket.write(framed(plainToken('bob', users.bob)))
      const [token] = await client.frames(1)
      expect(token!.length).toBe(0) // PLAIN's server answer is empty
      client.socket.write(metadataV1(2))
      const [metadata] = await client.frames(1)
      expect(correlationOf(metadata!)).toBe(2)
    } finally {
      client.socket.destroy()
    }
  })

  test('a request other than ApiVersions or SaslHandshake before authentication closes the connection', async () => {
    const client = await connect(saslPlaintext)
    client.socket.write(metadataV1(1))
    await client.closed
    await expect(client.frames(1)).rejects.toThrow('connection closed')
    expect(saslPlaintext.problems()).toContain('Metadata before SASL authentication')
  })

  test('a mechanism the front does not enable is answered UNSUPPORTED_SASL_MECHANISM with the enabled list, then closed', async () => {
    const client = await connect(saslPlaintext)
    client.socket.write(handshake(1, 7, 'SCRAM-SHA-256'))
    const [response] = await client.frames(1)
    const reader = new Reader(response!)
    expect(reader.int32()).toBe(7)
    expect(reader.int16()).toBe(33)
    const count = reader.int32()
    expect(Array.from({ length: count }, () => reader.nullableString())).toEqual(['PLAIN', 'SCRAM-SHA-512'])
    await client.closed
  })

  test('close() ends open connections, stops the listeners and deletes the certificates', async () => {
    const front = await startKafkaSecurityFront({ broker, protocol: 'ssl' })
    let closed = false
    const closeFront = async () => {
      if (!closed) await front.close()
      closed = true
    }
    cleanups.push(closeFront)
    const client = await connect(front)
    client.socket.write(apiVersionsV1(1))
    expect((await client.frames(1)).map(correlationOf)).toEqual([1]) // relayed: the broker connection is open too
    await closeFront()
    await client.closed
    const [host, port] = front.bootstrapServers.split(',')[0]!.split(':') as [string, string]
    const refused = await new Promise<string>((resolve) => {
      const probe = net.connect({ host, port: Number(port) })
      probe.once('connect', () => {
        probe.destroy()
        resolve('connected')
      })
      probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    })
    expect(refused).toBe('ECONNREFUSED')
    expect(existsSync(front.caFile)).toBe(false)
  })

  test('a wrong PLAIN password gets SASL_AUTHENTICATION_FAILED in SaslAuthenticate, then the connection closes', async () => {
    const client = await connect(saslPlaintext)
    client.socket.write(Buffer.concat([handshake(1, 1, 'PLAIN'), authenticateV1(2, plainToken('alice', 'wrong'))]))
    const [, authenticate] = await client.frames(2)
    const reader = new Reader(authenticate!)
    expect(reader.int32()).toBe(2)
    expect(reader.int16()).toBe(58)
    expect(reader.nullableString()).toBe('Authentication failed: Invalid username or password')
    await client.closed
  })
})

// The response rewriting for versions no client of the rig sends (the mock advertises Metadata 0–2, ApiVersions 0–2).
describe('response rewriting, on hand-built frames', () => {
  const front = (nodeId: number) => ({ host: '127.0.0.1', port: 20_000 + nodeId })

  test('Metadata v9+ (flexible): compact strings, per-broker tagged fields and everything after are kept', () => {
    const tail = Buffer.from([0x05, 0x63, 0x6c, 0x75, 0x73, 0x00]) // cluster_id "clus" + … (copied verbatim)
    const response = new Writer()
      .int32(42).noTaggedFields() // response header v1
      .int32(0) // throttle_time_ms
      .arrayLength(2, true)
      .int32(1).compactNullableString('mock-host').int32(9092).compactNullableString('rack-a').noTaggedFields()
      .int32(2).compactNullableString('mock-host').int32(9093).compactNullableString(null).uvarint(1).uvarint(0).uvarint(1).raw(Buffer.from([7]))
      .raw(tail)
      .build()
    const rewritten = rewriteMetadataResponse(response, 12, front)
    const reader = new Reader(rewritten)
    expect(reader.int32()).toBe(42)
    reader.skipTaggedFields()
    expect(reader.int32()).toBe(0)
    expect(reader.arrayLength(true)).toBe(2)
    expect([reader.int32(), reader.compactNullableString(), reader.int32(), reader.compactNullableString()]).toEqual([1, '127.0.0.1', 20_001, 'rack-a'])
    reader.skipTaggedFields()
    expect([reader.int32(), reader.compactNullableString(), reader.int32(), reader.compactNullableString()]).toEqual([2, '127.0.0.1', 20_002, null])
    // The second broker's tagged field (tag 0, one byte: 7), then the rest of the response, byte for byte.
    expect([reader.uvarint(), reader.uvarint(), reader.uvarint(), reader.bytes(1)[0]]).toEqual([1, 0, 1, 7])
    expect(reader.rest()).toEqual(tail)
  })

  test('Metadata v3–v8: throttle time before the brokers; a broker the front does not serve is an error', () => {
    const response = new Writer().int32(5).int32(0).int32(1).int32(3).nullableString('h').int32(1).nullableString(null).int32(-1).build()
    expect(readMetadataBrokers(rewriteMetadataResponse(response, 5, front), 5)).toEqual([{ nodeId: 3, host: '127.0.0.1', port: 20_003 }])
    expect(() => rewriteMetadataResponse(response, 5, () => undefined)).toThrow('broker 3')
  })

  test('ApiVersions v3 (flexible body, header v0) gains the SASL APIs; error answers pass unchanged', () => {
    const response = new Writer()
      .int32(9) // response header v0, even for v3
      .int16(0)
      .arrayLength(1, true).int16(0).int16(0).int16(9).noTaggedFields()
      .int32(0).noTaggedFields()
      .build()
    const patched = patchApiVersionsResponse(response, 3, saslApiVersions)
    expect(readApiVersionsResponse(patched, 3)).toEqual({
      errorCode: 0,
      ranges: [{ apiKey: 0, minVersion: 0, maxVersion: 9 }, ...saslApiVersions],
    })
    expect(patched.subarray(patched.length - 5)).toEqual(Buffer.from([0, 0, 0, 0, 0]))
    const unsupported = new Writer().int32(9).int16(35).int32(1).int16(18).int16(0).int16(2).build()
    expect(patchApiVersionsResponse(unsupported, 3, saslApiVersions)).toBe(unsupported)
  })
})

// Kafka's Metadata request layouts (kafka.apache.org/protocol): v0 an array of names (empty: all topics), v1–v8 a
// nullable array (null: all, empty: none), v9 compact with tagged fields, v10+ with a topic id before each name.
describe('Metadata request topics, on hand-built frames', () => {
  const header = (version: number) => {
    const writer = new Writer().int16(3).int16(version).int32(7).nullableString('client')
    return version >= 9 ? writer.noTaggedFields() : writer
  }
  const topicsOf = (frame: Buffer, version: number) => readMetadataRequestTopics(frame, version, requestBodyOffset(frame, version >= 9))

  test('v0: the names; an empty list asks for all topics', () => {
    expect(topicsOf(header(0).arrayLength(2, false).nullableString('a').nullableString('b').build(), 0)).toEqual(['a', 'b'])
    expect(topicsOf(header(0).arrayLength(0, false).build(), 0)).toBeNull()
  })

  test('v1–v8: a null list asks for all topics, an empty one for none; the fields after the list are not read', () => {
    expect(topicsOf(header(1).int32(-1).build(), 1)).toBeNull()
    expect(topicsOf(header(2).arrayLength(0, false).build(), 2)).toEqual([])
    expect(topicsOf(header(8).arrayLength(1, false).nullableString('orders').raw(Buffer.from([1, 0, 0])).build(), 8)).toEqual(['orders'])
  })

  test('v9: compact names with tagged fields; v10+: each name after its topic id', () => {
    expect(topicsOf(header(9).arrayLength(2, true).compactNullableString('a').noTaggedFields().compactNullableString('b').noTaggedFields().build(), 9)).toEqual(['a', 'b'])
    const topicId = Buffer.alloc(16, 9)
    const v12 = header(12).arrayLength(1, true).raw(topicId).compactNullableString('orders').noTaggedFields().raw(Buffer.from([0, 0, 0])).build()
    expect(topicsOf(v12, 12)).toEqual(['orders'])
    expect(topicsOf(header(12).uvarint(0).build(), 12)).toBeNull()
  })
})
