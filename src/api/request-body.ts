/**
 * Reading a request body: JSON declared as such, and never more than the size cap.
 *
 * A body must come with `content-type: application/json` (or a `+json` type): the types a web page can send without
 * asking the API first (`text/plain`, form encodings) are exactly those a cross-site form post uses, so accepting them
 * would let any page the operator opens create connectors. An empty body needs no type (`curl -X POST …/start`).
 * The cap is checked against `content-length` first and again while streaming, since a chunked body has no length up
 * front.
 */
import { findDuplicateKey } from './duplicate-keys.ts'
import { RequestError } from './rpc-status.ts'

export const defaultMaxBodyBytes = 1024 * 1024

/** An empty body reads as `{}`: every body here is an object whose fields are all optional or validated later. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declaredLength = Number(request.headers.get('content-length') ?? '0')
  if (declaredLength > maxBytes) throw tooLarge(maxBytes)
  const text = await readTextWithCap(request, maxBytes)
  if (text.trim() === '') return {}
  if (!isJsonContentType(request.headers.get('content-type'))) throw notJson(request.headers.get('content-type'))
  let unrepresentable: string | undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text, (key, value: unknown, context?: { source?: string }) => {
      if (typeof value === 'number' && unrepresentable === undefined) unrepresentable = unrepresentableNumber(key, value, context?.source)
      return value
    })
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : String(error)
    const description = `The request body is not valid JSON: ${reason}`
    throw new RequestError('INVALID_ARGUMENT', description, { fieldViolations: [{ field: 'body', description }] })
  }
  if (unrepresentable !== undefined) throw new RequestError('INVALID_ARGUMENT', unrepresentable, { fieldViolations: [{ field: 'body', description: unrepresentable }] })
  const duplicate = findDuplicateKey(text)
  if (duplicate !== undefined) {
    const where = duplicate.path === '' ? 'the body' : `the object at ${JSON.stringify(duplicate.path.slice(1, 200))}`
    const description = `The key ${JSON.stringify(duplicate.key.slice(0, 200))} appears twice in ${where}: send each key once (JSON would silently keep the last one)`
    throw new RequestError('INVALID_ARGUMENT', description, { fieldViolations: [{ field: duplicate.key.slice(0, 200), description }] })
  }
  return parsed
}

/**
 * A JSON number a double cannot hold reads as something else: `1e309` as Infinity and `1e-400` as 0, which a
 * setting such as `compression:level` would then accept as a level the user did not write. Refused, naming it.
 */
function unrepresentableNumber(key: string, value: number, source: string | undefined): string | undefined {
  if (source === undefined) return undefined
  const shown = `${JSON.stringify(key)}: ${source.slice(0, 40)}`
  if (!Number.isFinite(value)) return `The request body has a number too large to represent (${shown})`
  const mantissa = source.split(/[eE]/, 1)[0]!
  if (value === 0 && /[1-9]/.test(mantissa)) return `The request body has a number too small to represent; it would read as 0 (${shown})`
  return undefined
}

async function readTextWithCap(request: Request, maxBytes: number): Promise<string> {
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge(maxBytes)
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

/** `application/json`, `application/merge-patch+json`, with or without parameters such as `charset`. */
export function isJsonContentType(contentType: string | null): boolean {
  if (contentType === null) return false
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType)
}

function notJson(contentType: string | null): RequestError {
  const declared = contentType === null ? 'no content-type' : `content-type ${JSON.stringify(contentType.slice(0, 100))}`
  const description = `The request body must be JSON sent with content-type: application/json (curl -H 'content-type: application/json'); got ${declared}`
  return new RequestError('INVALID_ARGUMENT', description, { fieldViolations: [{ field: 'content-type', description }], httpStatus: 415 })
}

function tooLarge(maxBytes: number): RequestError {
  return new RequestError('RESOURCE_EXHAUSTED', `The request body is larger than ${maxBytes} bytes, the limit of this API`)
}
