/**
 * A bare HTTP/1.1 client over a TCP socket, for requests `fetch` will not send: request targets with `%00`, `..%2F`
 * or bytes as they are, bodies with invalid UTF-8, duplicated headers, any content type. One request per
 * connection (`Connection: close`); the response is read until the server closes.
 */
import net from 'node:net'

export interface RawResponse {
  readonly status: number
  readonly headers: ReadonlyMap<string, string>
  readonly body: Buffer
}

export interface RawRequest {
  readonly method: string
  /** Sent exactly as given, as the request target. */
  readonly target: string
  readonly headers?: ReadonlyArray<readonly [string, string]>
  readonly body?: Buffer | string
}

export async function sendRaw(port: number, request: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8')
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close']
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`)
  if (body !== undefined) lines.push(`Content-Length: ${body.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  const received = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect({ host: '127.0.0.1', port })
    const timer = setTimeout(() => socket.destroy(new Error(`no complete response within ${timeoutMs} ms to ${request.method} ${request.target.slice(0, 80)}`)), timeoutMs)
    // write, not end: a half-closed connection makes the server drop it before answering.
    socket.on('connect', () => socket.write(body === undefined ? head : Buffer.concat([head, body])))
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks))
    })
  })
  return parseResponse(received, request)
}

function parseResponse(bytes: Buffer, request: RawRequest): RawResponse {
  const headEnd = bytes.indexOf('\r\n\r\n')
  if (headEnd === -1) throw new Error(`no HTTP response to ${request.method} ${request.target.slice(0, 80)} (got ${bytes.length} bytes)`)
  const [statusLine, ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1])
  if (!Number.isInteger(status)) throw new Error(`not an HTTP status line: ${statusLine}`)
  const headers = new Map<string, string>()
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  let body = bytes.subarray(headEnd + 4)
  if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') body = decodeChunked(body)
  else if (headers.has('content-length')) body = body.subarray(0, Number(headers.get('content-length')))
  return { status, headers, body }
}

function decodeChunked(bytes: Buffer): Buffer {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset)
    if (lineEnd === -1) break
    const size = Number.parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
  return Buffer.concat(parts)
}
