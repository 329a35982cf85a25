import { describe, expect, test } from 'bun:test'
import { decideStart } from '../../../src/connectors/start-point.ts'

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
