/**
 * Reading a request body: JSON whatever the declared content type, and never more than the size cap.
 *
 * The content type is not checked because `curl -d @file` without `-H 'content-type: application/json'` sends
 * `application/x-www-form-urlencoded`; every body this API takes is JSON, so reading it as JSON is the only useful
 * reading. The cap is checked against `content-length` first and again while streaming, since a chunked body has no
 * length up front.
 */
import { RequestError } from './rpc-status.ts'

export const defaultMaxBodyBytes = 1024 * 1024

/** An empty body reads as `{}`: every body here is an object whose fields are all optional or validated later. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declaredLength = Number(request.headers.get('content-length') ?? '0')
  if (declaredLength > maxBytes) throw tooLarge(maxBytes)
  const text = await readTextWithCap(request, maxBytes)
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : String(error)
    const description = `The request body is not valid JSON: ${reason}`
    throw new RequestError('INVALID_ARGUMENT', description, { fieldViolations: [{ field: 'body', description }] })
  }
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

function tooLarge(maxBytes: number): RequestError {
  return new RequestError('RESOURCE_EXHAUSTED', `The request body is larger than ${maxBytes} bytes, the limit of this API`)
}
