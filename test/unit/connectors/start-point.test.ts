import { describe, expect, test } from 'bun:test'
import { StreamNotFoundError } from '@kurrent/kurrentdb-client'
import { decideStart, resolveStart } from '../../../src/connectors/start-point.ts'
import type { KurrentDbConnection } from '../../../src/source/kurrentdb-connection.ts'

const all = { kind: 'all', filter: undefined } as const
const stream = { kind: 'stream', streamName: 'orders-1' } as const
const position = { commit: 100n, prepare: 90n }

describe('decideStart', () => {
  test('without a checkpoint: subscription:initialPosition', () => {
    expect(decideStart(undefined, 'earliest', all)).toEqual({ kind: 'ready', start: { kind: 'start' } })
    expect(decideStart(undefined, 'latest', all)).toEqual({ kind: 'ready', start: { kind: 'end' } })
  })
  test('a reset checkpoint starts from the beginning', () => {
    expect(decideStart({ kind: 'fromStart' }, 'latest', stream)).toEqual({ kind: 'ready', start: { kind: 'start' } })
  })
  test('$all resumes after the position; a stream after the revision', () => {
    expect(decideStart({ kind: 'after', position, revision: 4n }, 'latest', all)).toEqual({ kind: 'ready', start: { kind: 'after', position } })
    expect(decideStart({ kind: 'after', position, revision: 4n }, 'latest', stream)).toEqual({ kind: 'ready', start: { kind: 'afterRevision', revision: 4n } })
  })
  test('a stream read with only a log position (written while reading $all, or /start/{position}) looks the revision up', () => {
    expect(decideStart({ kind: 'after', position, revision: undefined }, 'latest', stream)).toEqual({ kind: 'streamRevisionAt', streamName: 'orders-1', position })
  })
  test('a checkpoint without a position or revision starts from the beginning', () => {
    expect(decideStart({ kind: 'after', position: undefined, revision: undefined }, 'latest', all)).toEqual({ kind: 'ready', start: { kind: 'start' } })
    expect(decideStart({ kind: 'after', position: undefined, revision: undefined }, 'latest', stream)).toEqual({ kind: 'ready', start: { kind: 'start' } })
  })
  test('a reset checkpoint wins over subscription:initialPosition for $all too', () => {
    expect(decideStart({ kind: 'fromStart' }, 'latest', all)).toEqual({ kind: 'ready', start: { kind: 'start' } })
  })
})

describe('resolveStart, when reading the stream fails', () => {
  // The client's readStream, failing the way the client does; the real reads are in test/unit/in-process/start-positions.test.ts.
  const failingWith = (error: Error) => ({ client: { readStream: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) }) } }) as unknown as KurrentDbConnection
  const explicit = { kind: 'after', position, revision: undefined } as const

  test('a stream that does not exist starts from its beginning', async () => {
    expect(await resolveStart(failingWith(new StreamNotFoundError({ streamName: 'orders-1' } as never)), explicit, 'latest', stream)).toEqual({ kind: 'start' })
  })

  test('any other failure is not taken for a missing stream: it surfaces', async () => {
    await expect(resolveStart(failingWith(new Error('14 UNAVAILABLE: connection refused')), explicit, 'latest', stream)).rejects.toThrow('14 UNAVAILABLE: connection refused')
  })
})
