/**
 * The line protocol between the conformance tests and a Kafka-port host process (host.ts): one JSON request per
 * stdin line, one JSON answer per stdout line with the same id. Bytes travel as base64, timestamps as strings.
 */
export type EngineRequest =
  | { readonly id: number; readonly op: 'open'; readonly config: unknown }
  | { readonly id: number; readonly op: 'connect'; readonly port: number }
  | { readonly id: number; readonly op: 'send'; readonly port: number; readonly topic: string; readonly messages: readonly WireMessage[] }
  | { readonly id: number; readonly op: 'close'; readonly port: number; readonly flush: boolean }

export interface WireMessage {
  readonly key: string | null
  readonly value: string
  readonly headers: readonly (readonly [string, string])[]
  readonly timestamp: string
}

/** A KafkaSendError as plain data; `code: 'NOT_A_KAFKA_SEND_ERROR'` for anything else the port threw. */
export interface WireError {
  readonly code: string
  readonly transient: boolean
  readonly kafkaName: string | undefined
  readonly message: string
}

export type EngineAnswer =
  | { readonly id: number; readonly port: number }
  | { readonly id: number; readonly done: true }
  | { readonly id: number; readonly outcomes: readonly (WireError | null)[] }
  /** connect() rejected with this error. */
  | { readonly id: number; readonly error: WireError }
  /** The call rejected with something that is not a KafkaSendError (a programming error, e.g. send after close). */
  | { readonly id: number; readonly rejection: string }
