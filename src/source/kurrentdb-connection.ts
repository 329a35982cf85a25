/**
 * The one KurrentDB client of the process and the raw subscription call the source reads from.
 *
 * Every KurrentDB call goes through @kurrent/kurrentdb-client. For reads we use its channel management
 * (`GRPCStreamCreator`: connection, credentials, reconnect on failure) but ask grpc-js for the response bytes
 * instead of google-protobuf objects, so `read-response-decoder.ts` can hand the stored bytes on unchanged.
 * `GRPCStreamCreator` and `callArguments` are protected members of the client's `Client` class; the client
 * version is pinned, and the source's tests run against the emulator through this exact path.
 */
import { KurrentDBClient } from '@kurrent/kurrentdb-client'
import { StreamsClient } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb'
import type { ReadReq } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb'
import type { LogPosition } from './positions.ts'
import { buildReadEventAtRequest, buildReadLastEventRequest } from './read-request.ts'
import { decodeReadResponse } from './read-response-decoder.ts'
import type { CallOptions, Client as GrpcClient, ClientReadableStream, Metadata } from '@grpc/grpc-js'

export interface KurrentDbConnection {
  readonly client: KurrentDBClient
  /** Opens a `Streams.Read` call whose responses arrive as raw ReadResp bytes. */
  openRead(request: ReadReq): Promise<ClientReadableStream<Buffer>>
  /** Resolves when KurrentDB answers a read; rejects with the reason otherwise. */
  checkReachable(): Promise<void>
  /** The position of the last event in `$all` (undefined for an empty database). */
  readHeadPosition(): Promise<LogPosition | undefined>
  /**
   * The position of the first event at or after `position` (undefined past the end). Rejects with the server's
   * INVALID_ARGUMENT when `position` is not an event boundary in the log.
   */
  readEventAt(position: LogPosition): Promise<LogPosition | undefined>
  /** The version the server reports (`ServerFeatures`), or "unknown" when it does not say. */
  readServerVersion(): Promise<string>
  dispose(): Promise<void>
}

/** The protected members of the client's `Client` class this module relies on (see the header comment). */
interface ClientInternals {
  GRPCStreamCreator<T>(
    clientConstructor: typeof StreamsClient,
    debugName: string,
    creator: (client: StreamsClient) => T,
  ): () => Promise<T>
  callArguments(options: Record<string, never>, callOptions: CallOptions): [Metadata, CallOptions]
}

const readMethodPath = '/event_store.client.streams.Streams/Read'
const serializeReadRequest = (request: ReadReq): Buffer => Buffer.from(request.serializeBinary())
const keepResponseBytes = (bytes: Buffer): Buffer => bytes

export function connectToKurrentDb(connectionString: string): KurrentDbConnection {
  const client = KurrentDBClient.connectionString(connectionString)
  const internals = client as unknown as ClientInternals

  // Over gRPC rather than the client's bridge: the bridge never recovers when its first connection failed
  // (measured: reads stay UNAVAILABLE after the server is back), while gRPC channels reconnect.
  const readOneEvent = async (request: ReadReq): Promise<LogPosition | undefined> => {
    const [metadata, callOptions] = internals.callArguments({}, { deadline: Date.now() + 5_000 })
    const create = internals.GRPCStreamCreator(StreamsClient, 'kafka-sink one-event read', (grpcClient: GrpcClient) =>
      grpcClient.makeServerStreamRequest(readMethodPath, serializeReadRequest, keepResponseBytes, request, metadata, callOptions),
    )
    const call = await create()
    return new Promise<LogPosition | undefined>((resolve, reject) => {
      let position: LogPosition | undefined
      call.on('data', (bytes: Buffer) => {
        // Thrown inside an event handler, a decoding error would be uncaught and end the process.
        try {
          const response = decodeReadResponse(bytes)
          if (response.kind === 'event') position = response.event.position
        } catch (error) {
          call.cancel()
          reject(new Error(`KurrentDB sent a response that is not a valid ReadResp: ${(error as Error).message}`, { cause: error }))
        }
      })
      call.on('end', () => resolve(position))
      call.on('error', reject)
    })
  }
  const readHeadPosition = () => readOneEvent(buildReadLastEventRequest())

  return {
    client,
    openRead: (request) => {
      const [metadata, callOptions] = internals.callArguments({}, { deadline: Infinity })
      const create = internals.GRPCStreamCreator(StreamsClient, 'kafka-sink read', (grpcClient: GrpcClient) =>
        grpcClient.makeServerStreamRequest(readMethodPath, serializeReadRequest, keepResponseBytes, request, metadata, callOptions),
      )
      return create()
    },
    readHeadPosition,
    readEventAt: (position) => readOneEvent(buildReadEventAtRequest(position)),
    checkReachable: async () => {
      await readHeadPosition()
    },
    readServerVersion: async () => (await (client as unknown as { capabilities: Promise<{ serverVersion: string }> }).capabilities).serverVersion,
    dispose: () => client.dispose(),
  }
}
