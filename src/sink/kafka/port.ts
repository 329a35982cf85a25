/**
 * The Kafka port: the only way the pipeline talks to Kafka. Engines (one file each in this folder) map a
 * `KafkaProducerConfig` to their client and classify every client error into a `KafkaSendError` at this boundary,
 * so the pipeline never imports an engine nor inspects a client's error shapes.
 */
import type { KafkaSendError } from './errors.ts'

/** One record as it goes to Kafka. Header values are UTF-8 bytes; `timestamp` is epoch milliseconds. */
export interface KafkaMessage {
  readonly key: Buffer | null
  readonly value: Buffer
  readonly headers: ReadonlyMap<string, Buffer>
  readonly timestamp: bigint
}

/** What happened to one message of a batch, in the batch's order. */
export type MessageOutcome = { readonly delivered: true } | { readonly delivered: false; readonly error: KafkaSendError }

export interface KafkaPort {
  /** Connects and reads the cluster's metadata, naming no topic (so none is created); rejects with a KafkaSendError (e.g. authentication failure). */
  connect(): Promise<void>
  /**
   * Sends one batch to `topic`. Resolves with one outcome per message, same order, once the broker has answered for
   * every message (with acks as configured). Kafka-side failures are outcomes, never rejections; a rejection means a
   * programming error.
   */
  send(topic: string, messages: readonly KafkaMessage[]): Promise<readonly MessageOutcome[]>
  /**
   * The latest error the client retried by itself inside a send or connect, and when (epoch ms): what a send that is
   * still in progress is struggling with. Optional: an engine that cannot tell leaves it out.
   */
  lastRetriedError?(): { readonly error: KafkaSendError; readonly at: number } | undefined
  /** Closes the client; with `flush`, waits for sends already handed to the client first. Idempotent. */
  close(options: { readonly flush: boolean }): Promise<void>
}

export type SecurityProtocol = 'plaintext' | 'ssl' | 'saslPlaintext' | 'saslSsl'
export type SaslMechanism = 'plain' | 'scramSha256' | 'scramSha512'
export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
export type BrokerAddressFamily = 'any' | 'v4' | 'v6'

/** Everything an engine needs, already validated and defaulted by `settings/`. */
export interface KafkaProducerConfig {
  readonly clientId: string
  /** host:port pairs, in the user's order. */
  readonly bootstrapServers: readonly string[]
  readonly securityProtocol: SecurityProtocol
  readonly sasl: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string } | undefined
  /** `all` waits for every in-sync replica; `leader` for the partition leader only. Never none: checkpoints need a confirmation. */
  readonly acks: 'all' | 'leader'
  readonly compression: { readonly type: CompressionType; readonly level: number }
  readonly brokerAddressFamily: BrokerAddressFamily
  readonly reconnectBackoffMaxMs: number
  /** Retries the engine itself may make for one send before reporting a transient error. */
  readonly messageSendMaxRetries: number
  readonly requestTimeoutMs: number
  /**
   * Upper bound on one `send`, retries included: past it the engine reports the unconfirmed messages as transient
   * failures, so the pipeline's own retry policy (and its logs, metrics and stop requests) takes over.
   */
  readonly deliveryTimeoutMs: number
}
