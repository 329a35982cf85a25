import { beforeEach, describe, expect, test } from 'bun:test'
import { NEVER, type Observable } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { DeliveryAbortedError, DeliveryFailedError, deliverBatch, RetriesExhaustedError, type DeliveryPolicy } from '../../../src/pipeline/deliver-batch.ts'
import type { WorkItem } from '../../../src/pipeline/work-item.ts'
import { KafkaSendError } from '../../../src/sink/kafka/errors.ts'
import type { KafkaMessage, MessageOutcome } from '../../../src/sink/kafka/port.ts'

function messageOf(text: string): KafkaMessage {
  return { key: Buffer.from(text.slice(0, 1)), value: Buffer.from(text), headers: new Map(), timestamp: 0n }
}
const batch: WorkItem[] = ['a1', 'b1', 'a2'].map((text, sequence) => ({ sequence, resume: undefined, message: messageOf(text), bytes: 2, caughtUp: false, readAt: 0 }))

const transient = new KafkaSendError({ code: 'RETRIABLE_BROKER_ERROR', transient: true, kafkaName: 'NOT_LEADER_OR_FOLLOWER', message: 'not leader' })
const fatal = new KafkaSendError({ code: 'MESSAGE_TOO_LARGE', transient: false, kafkaName: 'MESSAGE_TOO_LARGE', message: 'too large' })
const delivered: MessageOutcome = { delivered: true }
const failedWith = (error: KafkaSendError): MessageOutcome => ({ delivered: false, error })

// The delay floor is 100 ms doubling (jittered between half and all of it); a fixed transientErrorDelay above the
// floor makes the virtual timeline exact.
const policy = (maxRetries: number): DeliveryPolicy => ({ retriesEnabled: true, maxRetries, delay: { transientErrorDelayMs: 1_000, backoffMaxMs: 500 } })

describe('deliverBatch', () => {
  let scheduler: TestScheduler
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
  })

  test('emits the batch once every message is delivered', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const send = () => cold('-(r|)', { r: [delivered, delivered, delivered] })
      expectObservable(deliverBatch(batch, send, policy(3), { abort$: NEVER })).toBe('-(b|)', { b: batch })
    })
  })

  test('re-sends only the messages that failed transiently, in batch order, after the delay', () => {
    const sent: string[][] = []
    scheduler.run(({ cold, expectObservable }) => {
      const responses = [[delivered, failedWith(transient), failedWith(transient)], [delivered, delivered]]
      const send = (messages: readonly KafkaMessage[]) => {
        sent.push(messages.map((message) => message.value.toString()))
        return cold('-(r|)', { r: responses[sent.length - 1]! })
      }
      expectObservable(deliverBatch(batch, send, policy(3), { abort$: NEVER })).toBe('- 1000ms -(b|)', { b: batch })
    })
    expect(sent).toEqual([['a1', 'b1', 'a2'], ['b1', 'a2']])
  })

  test('a non-transient failure ends delivery at once with the Kafka error kept', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const send = () => cold('-(r|)', { r: [delivered, failedWith(fatal), delivered] })
      expectObservable(deliverBatch(batch, send, policy(-1), { abort$: NEVER })).toBe('-#', undefined, new DeliveryFailedError(fatal))
    })
  })

  test('gives up after maxRetries retries and reports every attempt', () => {
    let error: unknown
    scheduler.run(({ cold }) => {
      const send = () => cold('-(r|)', { r: [failedWith(transient), delivered, delivered] })
      deliverBatch(batch, send, policy(2), { abort$: NEVER }).subscribe({ error: (caught) => (error = caught) })
    })
    expect(error).toBeInstanceOf(RetriesExhaustedError)
    expect((error as RetriesExhaustedError).attempts).toHaveLength(3)
  })

  test('resilience disabled: no retry at this layer', () => {
    let error: unknown
    scheduler.run(({ cold }) => {
      const send = () => cold('-(r|)', { r: [failedWith(transient), delivered, delivered] })
      deliverBatch(batch, send, { ...policy(-1), retriesEnabled: false }, { abort$: NEVER }).subscribe({ error: (caught) => (error = caught) })
    })
    expect((error as RetriesExhaustedError).attempts).toHaveLength(1)
  })

  test('a stop request abandons the wait between retries instead of completing as if delivered', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const send = () => cold('-(r|)', { r: [failedWith(transient), delivered, delivered] })
      const abort$: Observable<string> = hot('---s')
      expectObservable(deliverBatch(batch, send, policy(-1), { abort$ })).toBe('---#', undefined, new DeliveryAbortedError())
    })
  })

  test('a batch of markers only needs no send', () => {
    const markers: WorkItem[] = [{ sequence: 0, resume: undefined, message: undefined, bytes: 0, caughtUp: true, readAt: 0 }]
    scheduler.run(({ expectObservable }) => {
      expectObservable(deliverBatch(markers, () => { throw new Error('must not send') }, policy(0), { abort$: NEVER })).toBe('(b|)', { b: markers })
    })
  })

  const otherTransient = new KafkaSendError({ code: 'REQUEST_TIMED_OUT', transient: true, kafkaName: 'REQUEST_TIMED_OUT', message: 'timed out' })

  test('the errors say what happened, keep the Kafka error as cause, and carry their names', () => {
    const failed = new DeliveryFailedError(fatal)
    expect({ name: failed.name, message: failed.message, cause: failed.cause, kafkaError: failed.kafkaError }).toEqual({ name: 'DeliveryFailedError', message: 'Kafka rejected a record: too large', cause: fatal, kafkaError: fatal })
    const exhausted = new RetriesExhaustedError([transient, otherTransient])
    expect({ name: exhausted.name, message: exhausted.message, cause: exhausted.cause }).toEqual({ name: 'RetriesExhaustedError', message: 'Kafka delivery failed 2 times; last error: timed out', cause: otherTransient })
    expect(new RetriesExhaustedError([]).message).toBe('Kafka delivery failed 0 times; last error: unknown')
    const aborted = new DeliveryAbortedError()
    expect({ name: aborted.name, message: aborted.message }).toEqual({ name: 'DeliveryAbortedError', message: 'delivery abandoned because the connector is stopping' })
  })

  test('each attempt records its first transient error, oldest attempt first; onRetry hears of each retry', () => {
    let error: unknown
    const retries: Array<[string, number, number]> = []
    scheduler.run(({ cold }) => {
      const answers = [[failedWith(transient), failedWith(otherTransient), delivered], [failedWith(otherTransient), failedWith(transient)], [failedWith(transient), delivered]]
      let call = 0
      const send = () => cold('-(r|)', { r: answers[call++]! })
      deliverBatch(batch, send, policy(2), { abort$: NEVER, onRetry: (kafkaError, attempt, delayMs) => void retries.push([kafkaError.message, attempt, delayMs]) }).subscribe({ error: (caught) => (error = caught) })
    })
    expect((error as RetriesExhaustedError).attempts).toEqual([transient, otherTransient, transient])
    expect(retries).toEqual([['not leader', 1, 1_000], ['timed out', 2, 1_000]])
  })

  test('a fatal outcome anywhere in the answer wins over transient ones before it', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const send = () => cold('-(r|)', { r: [failedWith(transient), delivered, failedWith(fatal)] })
      expectObservable(deliverBatch(batch, send, policy(-1), { abort$: NEVER })).toBe('-#', undefined, new DeliveryFailedError(fatal))
    })
  })

  test('maxRetries -1 retries until it works; 0 sends once', () => {
    let calls = 0
    scheduler.run(({ cold, expectObservable }) => {
      const send = () => cold('-(r|)', { r: ++calls < 6 ? [failedWith(transient), delivered, delivered] : [delivered] })
      expectObservable(deliverBatch(batch, send, policy(-1), { abort$: NEVER })).toBe('- 1000ms - 1000ms - 1000ms - 1000ms - 1000ms -(b|)', { b: batch })
    })
    expect(calls).toBe(6)
    let error: unknown
    let once = 0
    scheduler.run(({ cold }) => {
      const send = () => (once++, cold('-(r|)', { r: [failedWith(transient), delivered, delivered] }))
      deliverBatch(batch, send, policy(0), { abort$: NEVER }).subscribe({ error: (caught) => (error = caught) })
    })
    expect(once).toBe(1)
    expect((error as RetriesExhaustedError).attempts).toEqual([transient])
  })

  test('a send that fails by itself (a programming error) is not retried and surfaces unchanged', () => {
    const bug = new Error('bug in the engine')
    let calls = 0
    scheduler.run(({ cold, expectObservable }) => {
      const send = () => (calls++, cold<readonly MessageOutcome[]>('-#', undefined, bug))
      expectObservable(deliverBatch(batch, send, policy(-1), { abort$: NEVER })).toBe('-#', undefined, bug)
    })
    expect(calls).toBe(1)
  })

  test('an abort that came before the failure still abandons the retry (abort$ replays)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const send = () => cold('-(r|)', { r: [failedWith(transient), delivered, delivered] })
      const abort$ = cold('(s|)')
      expectObservable(deliverBatch(batch, send, policy(-1), { abort$ })).toBe('-#', undefined, new DeliveryAbortedError())
    })
  })
})
