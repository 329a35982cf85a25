// Durations as KurrentDB's connectors take them: .NET TimeSpan strings (TimeSpan.Parse: [d.]hh:mm:ss[.fffffff],
// d:hh:mm:ss[.fffffff], hh:mm; hours 0-23, minutes and seconds 0-59) or whole milliseconds.
import { describe, expect, test } from 'bun:test'
import { describeDuration, formatTimeSpan, readDurationMilliseconds } from '../../../src/settings/durations.ts'

const read = (raw: unknown) => readDurationMilliseconds(raw)

describe('readDurationMilliseconds', () => {
  test('the largest value of each field is accepted, one more is refused with the field named', () => {
    expect(read('23:59:59')).toEqual({ ok: true, value: 86_399_000 })
    expect(read('1.23:00:00')).toEqual({ ok: true, value: 2 * 86_400_000 - 3_600_000 })
    expect(read('24:00:00')).toMatchObject({ ok: false })
    expect(JSON.stringify(read('24:00:00'))).toContain('24 hours')
    expect(JSON.stringify(read('00:60:00'))).toContain('60 minutes')
    expect(JSON.stringify(read('00:00:60'))).toContain('60 seconds')
    expect(read('00:59:00')).toEqual({ ok: true, value: 3_540_000 })
    expect(read('00:00:59')).toEqual({ ok: true, value: 59_000 })
    expect(read('23:59')).toEqual({ ok: true, value: 86_340_000 })
  })

  test('every field counts with its own weight', () => {
    expect(read('2.00:00:00')).toEqual({ ok: true, value: 172_800_000 })
    expect(read('00:02:00')).toEqual({ ok: true, value: 120_000 })
    expect(read('00:00:02')).toEqual({ ok: true, value: 2_000 })
    expect(read('02:00')).toEqual({ ok: true, value: 7_200_000 })
    expect(read('3:04:05:06')).toEqual({ ok: true, value: 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6_000 })
    expect(read('3:04:05:06.5')).toEqual({ ok: true, value: 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6_500 })
    expect(read('3.04:05:06.007')).toEqual({ ok: true, value: 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6_007 })
  })

  test('the day forms take the whole text: more days than one digit, fractions longer than one digit, nothing around', () => {
    expect(read('12:01:02:03')).toEqual({ ok: true, value: 12 * 86_400_000 + 3_600_000 + 2 * 60_000 + 3_000 })
    expect(read('1:00:00:00.25')).toEqual({ ok: true, value: 86_400_250 })
    expect(read('1.00:00:00.25')).toEqual({ ok: true, value: 86_400_250 })
    for (const text of ['x1.02:03:04', '1.02:03:04x', 'x1:02:03:04', '1:02:03:04x', '1.02:03:04.5x', '1:02:03:04.5x']) expect({ text, ok: read(text).ok }).toEqual({ text, ok: false })
  })

  test('fractions below a millisecond round to the nearest millisecond', () => {
    expect(read('00:00:00.0004')).toEqual({ ok: true, value: 0 })
    expect(read('00:00:00.0005')).toEqual({ ok: true, value: 1 })
    expect(read('00:00:00.9996')).toEqual({ ok: true, value: 1_000 })
  })

  test('numbers are milliseconds; negative, fractional and non-numeric values are refused', () => {
    expect(read(0)).toEqual({ ok: true, value: 0 })
    expect(read(1500)).toEqual({ ok: true, value: 1500 })
    expect(read(-1)).toMatchObject({ ok: false })
    expect(read(1.5)).toMatchObject({ ok: false })
    expect(read('-00:00:05')).toMatchObject({ ok: false })
    expect(JSON.stringify(read('-00:00:05'))).toContain('negative')
    expect(read('-5')).toMatchObject({ ok: false })
    expect(read(true)).toMatchObject({ ok: false })
    expect(read(null)).toMatchObject({ ok: false })
    expect(read('five seconds')).toMatchObject({ ok: false })
    expect(read('00:00:05x')).toMatchObject({ ok: false })
    expect(read('x00:00:05')).toMatchObject({ ok: false })
    expect(read('1.00:00')).toMatchObject({ ok: false })
    expect(read('00:00:00.12345678')).toMatchObject({ ok: false })
    expect(read('100:00')).toMatchObject({ ok: false })
  })

  test('a refusal says what a duration looks like and repeats the value', () => {
    const refused = read('soon')
    expect(refused.ok).toBe(false)
    const message = JSON.stringify(refused)
    expect(message).toContain('00:00:05')
    expect(message).toContain('soon')
    expect(JSON.stringify(read(2.5))).toContain('2.5')
    expect(JSON.stringify(read({}))).toContain('must be a duration')
  })
})

describe('formatTimeSpan', () => {
  test('hh:mm:ss, a day part only when there are days, milliseconds only when there are some', () => {
    expect(formatTimeSpan(0)).toBe('00:00:00')
    expect(formatTimeSpan(5_000)).toBe('00:00:05')
    expect(formatTimeSpan(250)).toBe('00:00:00.250')
    expect(formatTimeSpan(7)).toBe('00:00:00.007')
    expect(formatTimeSpan(3_723_000)).toBe('01:02:03')
    expect(formatTimeSpan(93_784_000)).toBe('1.02:03:04')
    expect(formatTimeSpan(2_147_483_647)).toBe('24.20:31:23.647')
  })

  test('what it prints reads back as the same duration', () => {
    for (const milliseconds of [0, 1, 999, 1_000, 59_999, 3_599_999, 86_399_999, 86_400_000, 2_147_483_647]) {
      expect(read(formatTimeSpan(milliseconds))).toEqual({ ok: true, value: milliseconds })
    }
  })

  test('describeDuration gives both forms', () => {
    expect(describeDuration(5_000)).toBe('5000 ms (00:00:05)')
  })
})
