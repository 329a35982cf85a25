// A topic's partition count as a send reads it from a Metadata answer. Expectations from Kafka: every topic has at
// least one partition (CreateTopics refuses fewer), and a Metadata response may list a topic with no partitions, or
// leave it out, while the topic is being created; the Java producer waits for the partitions (a retriable state).
import { describe, expect, test } from 'bun:test'
import { KafkaSendError } from '../../../../src/sink/kafka/errors.ts'
import { partitionCountOf, type TopicsMetadata } from '../../../../src/sink/kafka/topic-partitions.ts'

const answer = (entries: [string, { partitionsCount: number } | undefined][]): TopicsMetadata => ({ topics: new Map(entries) })

function failureOf(read: () => unknown): KafkaSendError {
  try {
    read()
  } catch (error) {
    if (error instanceof KafkaSendError) return error
    throw error
  }
  throw new Error('expected a KafkaSendError')
}

describe('partitionCountOf', () => {
  test('a topic with partitions: their count, one partition included', () => {
    expect(partitionCountOf(answer([['orders', { partitionsCount: 6 }]]), 'orders')).toBe(6)
    expect(partitionCountOf(answer([['single', { partitionsCount: 1 }]]), 'single')).toBe(1)
  })

  test('the count of the topic asked for, not of another topic in the same answer', () => {
    const metadata = answer([
      ['other', { partitionsCount: 12 }],
      ['orders', { partitionsCount: 3 }],
    ])
    expect(partitionCountOf(metadata, 'orders')).toBe(3)
  })

  test('a topic listed with no partitions (being created): a transient RETRIABLE_BROKER_ERROR naming the topic', () => {
    const error = failureOf(() => partitionCountOf(answer([['orders', { partitionsCount: 0 }]]), 'orders'))
    expect(error).toMatchObject({ code: 'RETRIABLE_BROKER_ERROR', transient: true, kafkaName: undefined })
    expect(error.message).toBe('the metadata for topic orders lists no partitions')
  })

  test('a topic the answer leaves out, or names without its metadata: the same transient error', () => {
    for (const metadata of [answer([]), answer([['orders', undefined]]), answer([['other', { partitionsCount: 4 }]])]) {
      const error = failureOf(() => partitionCountOf(metadata, 'orders'))
      expect(error).toMatchObject({ code: 'RETRIABLE_BROKER_ERROR', transient: true })
      expect(error.message).toBe('the metadata for topic orders lists no partitions')
    }
  })
})
