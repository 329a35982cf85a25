import { describe, expect, test } from 'bun:test'
import { createLogger, describeError } from '../../../src/observability/logger.ts'

describe('logger', () => {
  test('writes one JSON object per line, at or above its level, with bound fields', () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'info', write: (line) => lines.push(line) }).child({ connectorId: 'orders' })
    logger.debug('hidden')
    logger.info('shown', { position: 2n ** 64n - 1n })
    expect(lines).toHaveLength(1)
    const entry = JSON.parse(lines[0]!)
    expect(entry).toMatchObject({ level: 'info', message: 'shown', connectorId: 'orders', position: '18446744073709551615' })
    expect(Date.parse(entry.time)).not.toBeNaN()
  })

  test('errors are logged as name, message, code and causes, without stack traces', () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) })
    const cause = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })
    logger.error('failed', { error: new Error('send failed', { cause }) })
    expect(JSON.parse(lines[0]!).error).toEqual({ name: 'Error', message: 'send failed', cause: { name: 'Error', message: 'connection refused', code: 'ECONNREFUSED' } })
    expect(lines[0]).not.toContain('    at ')
    expect(describeError('plain')).toBe('plain')
  })
})
