// The one-event reads of the connection against a server that answers bytes that are not a ReadResp: the read must
// reject with a clear error, never throw from inside the stream's event handler (an uncaught exception ends the
// process). The server is a bare gRPC host serving KurrentDB's Streams service, not the emulator.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import * as grpc from '@grpc/grpc-js'
import { connectToKurrentDb, type KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'
import { streamsServiceDefinition } from '../../support/kurrentdb-emulator/protocol.ts'

let server: grpc.Server
let connection: KurrentDbConnection

beforeAll(async () => {
  server = new grpc.Server()
  const unimplemented = (_call: unknown, callback: (error: grpc.ServiceError) => void) =>
    callback(Object.assign(new Error('unimplemented'), { code: grpc.status.UNIMPLEMENTED, details: 'unimplemented', metadata: new grpc.Metadata() }))
  server.addService(streamsServiceDefinition, {
    // A length-delimited field 1 claiming more bytes than there are.
    read: (call: grpc.ServerWritableStream<unknown, Buffer>) => {
      call.write(Buffer.from([0x0a, 0x7f, 0x01]))
      call.end()
    },
    append: unimplemented,
    batchAppend: unimplemented,
    delete: unimplemented,
    tombstone: unimplemented,
  } as never)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  )
  connection = connectToKurrentDb(`kurrentdb://127.0.0.1:${port}?tls=false&discoveryInterval=10`)
})
afterAll(async () => {
  await connection?.dispose()
  server?.forceShutdown()
})

test('a malformed response to the head-position read rejects with the reason', async () => {
  const failure = await connection.readHeadPosition().then(() => undefined, (error: unknown) => error)
  expect(String(failure)).toContain('not a valid ReadResp')
})

test('a malformed response to the event-at-position read rejects too', async () => {
  const failure = await connection.readEventAt({ commit: 4096n, prepare: 4096n }).then(() => undefined, (error: unknown) => error)
  expect(String(failure)).toContain('not a valid ReadResp')
})
