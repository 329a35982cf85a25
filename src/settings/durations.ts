/**
 * Durations as KurrentDB's connectors write them: .NET TimeSpan strings (`00:00:05`, `1.02:00:00`) or whole
 * milliseconds (`5000`, as a string or a JSON number). Everything becomes milliseconds.
 */
import { readFailed, readOk, showRawValue, type ReadResult } from './setting-definition.ts'

const millisecondsPerSecond = 1000
const millisecondsPerMinute = 60 * millisecondsPerSecond
const millisecondsPerHour = 60 * millisecondsPerMinute
const millisecondsPerDay = 24 * millisecondsPerHour

export const durationFormatsText =
  'a TimeSpan `hh:mm:ss[.fff]` (e.g. `00:00:05`), `hh:mm`, `d.hh:mm:ss[.fff]`, or whole milliseconds (e.g. `5000`)'

// .NET TimeSpan.Parse forms: [d.]hh:mm:ss[.fffffff], d:hh:mm:ss[.fffffff] and hh:mm. A bare number is days in .NET;
// here it is milliseconds, because KurrentDB's own millisecond settings (`autocommit:interval`) are bare numbers and a
// user cannot tell the two kinds apart.
const daysDotTimePattern = /^(\d+)\.(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/
const daysColonTimePattern = /^(\d+):(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/
const timePattern = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/
const hoursMinutesPattern = /^(\d{1,2}):(\d{1,2})$/
const millisecondsPattern = /^\d+$/

interface TimeSpanParts {
  readonly days: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
  readonly fraction: string
}

function matchTimeSpan(text: string): TimeSpanParts | undefined {
  const withDays = daysDotTimePattern.exec(text) ?? daysColonTimePattern.exec(text)
  if (withDays) {
    const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = withDays
    return { days: Number(days), hours: Number(hours), minutes: Number(minutes), seconds: Number(seconds), fraction }
  }
  const time = timePattern.exec(text)
  if (time) {
    const [, hours = '0', minutes = '0', seconds = '0', fraction = ''] = time
    return { days: 0, hours: Number(hours), minutes: Number(minutes), seconds: Number(seconds), fraction }
  }
  const hoursMinutes = hoursMinutesPattern.exec(text)
  if (hoursMinutes) {
    const [, hours = '0', minutes = '0'] = hoursMinutes
    return { days: 0, hours: Number(hours), minutes: Number(minutes), seconds: 0, fraction: '' }
  }
  return undefined
}

/** Parses a duration to whole milliseconds (fractions below a millisecond are rounded). */
export function readDurationMilliseconds(raw: unknown): ReadResult<number> {
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0) return readFailed(`must be a duration: ${durationFormatsText}, got ${raw}`)
    return readOk(raw)
  }
  if (typeof raw !== 'string') return readFailed(`must be a duration: ${durationFormatsText}, got ${showRawValue(raw)}`)
  const text = raw.trim()
  if (millisecondsPattern.test(text)) return readOk(Number(text))
  if (text.startsWith('-')) return readFailed(`must not be negative, got ${showRawValue(raw)}`)
  const parts = matchTimeSpan(text)
  if (!parts) return readFailed(`must be a duration: ${durationFormatsText}, got ${showRawValue(raw)}`)
  // TimeSpan.Parse rejects out-of-range fields instead of carrying them over; so do we, so `00:90:00` is not read
  // as 1.5 hours here and refused by KurrentDB.
  if (parts.hours > 23) return readFailed(`has ${parts.hours} hours; hours go up to 23 (write a day or more as d.hh:mm:ss), got ${showRawValue(raw)}`)
  if (parts.minutes > 59) return readFailed(`has ${parts.minutes} minutes; minutes go up to 59, got ${showRawValue(raw)}`)
  if (parts.seconds > 59) return readFailed(`has ${parts.seconds} seconds; seconds go up to 59, got ${showRawValue(raw)}`)
  const fractionMilliseconds = parts.fraction === '' ? 0 : Math.round(Number(`0.${parts.fraction}`) * millisecondsPerSecond)
  return readOk(
    parts.days * millisecondsPerDay +
      parts.hours * millisecondsPerHour +
      parts.minutes * millisecondsPerMinute +
      parts.seconds * millisecondsPerSecond +
      fractionMilliseconds,
  )
}

function twoDigits(value: number): string {
  return String(value).padStart(2, '0')
}

/** Formats milliseconds the way .NET prints a TimeSpan: `00:00:05`, `1.02:00:00`, `00:00:00.250`. */
export function formatTimeSpan(milliseconds: number): string {
  const days = Math.floor(milliseconds / millisecondsPerDay)
  const hours = Math.floor((milliseconds % millisecondsPerDay) / millisecondsPerHour)
  const minutes = Math.floor((milliseconds % millisecondsPerHour) / millisecondsPerMinute)
  const seconds = Math.floor((milliseconds % millisecondsPerMinute) / millisecondsPerSecond)
  const rest = milliseconds % millisecondsPerSecond
  const time = `${twoDigits(hours)}:${twoDigits(minutes)}:${twoDigits(seconds)}${rest === 0 ? '' : `.${String(rest).padStart(3, '0')}`}`
  return days === 0 ? time : `${days}.${time}`
}

/** Human text for a bound in the docs, e.g. `24.20:31:23.647` for the largest timer delay. */
export function describeDuration(milliseconds: number): string {
  return `${milliseconds} ms (${formatTimeSpan(milliseconds)})`
}
