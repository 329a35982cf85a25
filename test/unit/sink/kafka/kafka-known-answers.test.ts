// Our Kafka decisions against Kafka's own answers, produced once by Kafka's Java client (kafka-clients 4.4.0) and
// committed as JSON; how they were made: test/support/kafka-known-answers/README.md.
import { describe, expect, test } from 'bun:test'
import { kafkaSendErrorCodes } from '../../../../src/sink/kafka/errors.ts'
import { classifyKafkaErrorName, isRetriableKafkaError } from '../../../../src/sink/kafka/kafka-error-names.ts'
import { createPartitioner, murmur2, partitionForKey } from '../../../../src/sink/kafka/partitioner.ts'
import partitionVectors from './partition-vectors.json'
import retriableErrors from './kafka-retriable-errors.json'

describe("partitions, as Kafka's Java producer picks them (BuiltInPartitioner.partitionForKey)", () => {
  test('murmur2 of every key matches Utils.murmur2', () => {
    for (const vector of partitionVectors.vectors) expect({ key: vector.key, murmur2: murmur2(Buffer.from(vector.key, 'utf8')) }).toEqual({ key: vector.key, murmur2: vector.murmur2 })
  })

  test('the partition of every key, for every partition count', () => {
    for (const vector of partitionVectors.vectors) {
      const ours = partitionVectors.partitionCounts.map((count) => partitionForKey(Buffer.from(vector.key, 'utf8'), count))
      expect({ key: vector.key, partitions: ours }).toEqual({ key: vector.key, partitions: vector.partitions })
    }
  })

  test('the vectors include keys with a negative hash (where `>>> 0` and `& 0x7fffffff` disagree)', () => {
    const negative = partitionVectors.vectors.filter((vector) => vector.murmur2 < 0)
    expect(negative.length).toBeGreaterThan(3)
    expect(negative.some((vector) => partitionVectors.partitionCounts.some((count, index) => (vector.murmur2 >>> 0) % count !== vector.partitions[index]))).toBe(true)
  })

  test('the partitioner assigns keyed messages the same partitions', () => {
    const partitioner = createPartitioner()
    const index = partitionVectors.partitionCounts.indexOf(12)
    const messages = partitionVectors.vectors.map((vector) => ({ key: Buffer.from(vector.key, 'utf8') }))
    const into = new Int32Array(messages.length)
    partitioner.assign('orders', messages, 12, into)
    expect([...into]).toEqual(partitionVectors.vectors.map((vector) => vector.partitions[index]!))
  })
})

describe("retriable Kafka errors, as Kafka's Java client classes say (RetriableException subclasses)", () => {
  /**
   * Where the sink departs from the class hierarchy, each as Kafka's Java producer itself does (Sender and
   * TransactionManager): the idempotent producer recovers from lost sequence state by bumping its epoch (KIP-360),
   * and a missing topic is retried only while waiting for metadata (`max.block.ms`), then fails the send.
   */
  const javaProducerBehaviour: Record<string, boolean> = {
    UNKNOWN_PRODUCER_ID: true,
    OUT_OF_ORDER_SEQUENCE_NUMBER: true,
    INVALID_PRODUCER_EPOCH: true,
    DUPLICATE_SEQUENCE_NUMBER: true,
    UNKNOWN_TOPIC_OR_PARTITION: false,
    UNKNOWN_TOPIC_ID: false,
  }

  test(`every error of Kafka's protocol (${retriableErrors.errors.length - 1} of them) is retried exactly when Kafka's client would`, () => {
    const mismatches: string[] = []
    for (const error of retriableErrors.errors) {
      if (error.name === 'NONE') continue
      const expected = javaProducerBehaviour[error.name] ?? error.retriable
      expect(kafkaSendErrorCodes).toContain(classifyKafkaErrorName(error.name).code)
      if (isRetriableKafkaError(error.name) !== expected) mismatches.push(`${error.name} (${error.code}): Kafka ${expected ? 'retries' : 'does not retry'} it`)
    }
    expect(mismatches).toEqual([])
  })

  test('the list is complete: known retriable errors are in it as Kafka defines them', () => {
    const byName = new Map(retriableErrors.errors.map((error) => [error.name, error.retriable]))
    // Spot checks against Kafka's protocol documentation ("Retriable" column of the error codes table).
    expect(byName.get('NOT_LEADER_OR_FOLLOWER')).toBe(true)
    expect(byName.get('NOT_ENOUGH_REPLICAS')).toBe(true)
    expect(byName.get('REQUEST_TIMED_OUT')).toBe(true)
    expect(byName.get('MESSAGE_TOO_LARGE')).toBe(false)
    expect(byName.get('TOPIC_AUTHORIZATION_FAILED')).toBe(false)
    expect(byName.size).toBe(retriableErrors.errors.length)
  })
})

describe("our error codes group Kafka's errors as the Java client's exception classes do", () => {
  /** Our code for a Kafka error, from its Java exception class and superclasses (kafka-clients 4.4.0). */
  const byException: Record<string, string> = {
    RecordTooLargeException: 'MESSAGE_TOO_LARGE',
    RecordBatchTooLargeException: 'MESSAGE_TOO_LARGE',
    InvalidRecordException: 'INVALID_RECORD',
    InvalidTimestampException: 'INVALID_RECORD',
    UnknownTopicOrPartitionException: 'UNKNOWN_TOPIC',
    UnknownTopicIdException: 'UNKNOWN_TOPIC',
    InvalidTopicException: 'INVALID_TOPIC',
    UnsupportedVersionException: 'UNSUPPORTED_BY_BROKER',
    UnsupportedCompressionTypeException: 'UNSUPPORTED_BY_BROKER',
    UnsupportedForMessageFormatException: 'UNSUPPORTED_BY_BROKER',
    InvalidRequiredAcksException: 'UNSUPPORTED_BY_BROKER',
    TimeoutException: 'REQUEST_TIMED_OUT',
    NetworkException: 'BROKERS_UNAVAILABLE',
    // The idempotent producer's lost or fenced sequence state (KIP-360): a new producer id recovers.
    UnknownProducerIdException: 'PRODUCER_STATE_LOST',
    OutOfOrderSequenceException: 'PRODUCER_STATE_LOST',
    DuplicateSequenceException: 'PRODUCER_STATE_LOST',
    InvalidProducerEpochException: 'PRODUCER_STATE_LOST',
    // Not an AuthenticationException in Java, but what a user sees is a SASL login refused (delegation tokens are
    // SCRAM credentials): grouped with authentication, so it also ends a connect at once.
    DelegationTokenDisabledException: 'AUTHENTICATION_FAILED',
  }
  const expectedCode = (error: (typeof retriableErrors.errors)[number]): string => {
    if (error.superclasses.includes('AuthorizationException')) return 'AUTHORIZATION_FAILED'
    if (error.superclasses.includes('AuthenticationException')) return 'AUTHENTICATION_FAILED'
    return byException[error.exception] ?? (error.retriable ? 'RETRIABLE_BROKER_ERROR' : 'BROKER_ERROR')
  }

  test('every Kafka error gets the code its exception class says', () => {
    const mismatches = retriableErrors.errors
      .filter((error) => error.name !== 'NONE')
      .map((error) => ({ name: error.name, exception: error.exception, ours: classifyKafkaErrorName(error.name).code, expected: expectedCode(error) }))
      .filter((row) => row.ours !== row.expected)
    expect(mismatches).toEqual([])
  })
})
