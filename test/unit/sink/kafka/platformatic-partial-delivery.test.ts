// A send that fails on one broker may still have been written on the others: @platformatic/kafka rejects the whole
// send and lists what was written in `error.produced.offsets` (producer.js, #performSend; the in-process engine
// test checks that shape against the Kafka test broker). Those partitions count as delivered.
import { describe, expect, test } from 'bun:test'
import { MultipleErrors, ProtocolError } from '@platformatic/kafka'
import { partitionsConfirmedDespite } from '../../../../src/sink/kafka/platformatic-partial-delivery.ts'

/** A failed send as the client reports it: one broker's error, and the partitions the other brokers wrote. */
function failedSend(offsets: unknown): Error {
  return Object.assign(new MultipleErrors('Producing messages failed.', [new ProtocolError(10)]), { produced: { offsets } })
}

const confirmed = (error: unknown, topic = 'orders') => [...partitionsConfirmedDespite(error, topic)].sort((a, b) => a - b)

describe('partitionsConfirmedDespite', () => {
  test('the partitions of the topic the client lists as written', () => {
    const error = failedSend([
      { topic: 'orders', partition: 2, offset: 10n },
      { topic: 'orders', partition: 0, offset: 4n },
    ])
    expect(confirmed(error)).toEqual([0, 2])
  })

  test("another topic's partitions, and entries without a numeric partition, confirm nothing", () => {
    const error = failedSend([
      { topic: 'payments', partition: 1, offset: 0n },
      { topic: 'orders', partition: '3', offset: 0n },
      { topic: 'orders', offset: 0n },
      null,
      { topic: 'orders', partition: 5, offset: 0n },
    ])
    expect(confirmed(error)).toEqual([5])
  })

  test('an error without a list of written partitions confirms nothing, whatever its shape', () => {
    for (const error of [
      new ProtocolError(10),
      failedSend(undefined),
      failedSend({ topic: 'orders', partition: 1 }),
      Object.assign(new Error('x'), { produced: { unwritableNodes: [1] } }),
      Object.assign(new Error('x'), { produced: null }),
      null,
      undefined,
      'a string',
    ]) {
      expect(confirmed(error)).toEqual([])
    }
    expect(confirmed(failedSend([]))).toEqual([])
  })
})
