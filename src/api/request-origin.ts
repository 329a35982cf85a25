/**
 * Keeps web pages out of the management API. A page the operator opens in a browser can send requests to
 * `localhost:2114` (a `text/plain` form post, `fetch(…, {mode: 'no-cors'})`), and a browser resends cached Basic
 * credentials with a cross-site form post; a page behind DNS rebinding even reads the answers. Scripts (curl, CI,
 * orchestrators) send none of the headers these checks look at, so they are not affected.
 *
 * - `Sec-Fetch-Site: cross-site` or `same-site` (set by every current browser, not forgeable by a page) is refused.
 * - An `Origin` that is not this API's own origin is refused (older browsers send `Origin` but no `Sec-Fetch-*`).
 * - Without credentials (`--insecure`), the `Host` must be a loopback name or address, or one of `--allowed-hosts`:
 *   a rebound DNS name reaches the listener with the attacker's host name in `Host`.
 *
 * It runs on `onRequest`, before authentication, so a refused request learns nothing else about the API.
 */
import { Elysia } from 'elysia'
import { RequestError } from './rpc-status.ts'

export interface RequestOriginOptions {
  /** Only these paths are checked: the probes, metrics and docs reveal nothing and are reached by other hosts. */
  readonly isProtected: (pathname: string) => boolean
  /** undefined: every `Host` is accepted (credentials protect the API). Otherwise the extra names allowed. */
  readonly allowedHosts: readonly string[] | undefined
}

export function requestOriginGuard(options: RequestOriginOptions) {
  const allowedHosts = options.allowedHosts?.map((host) => host.toLowerCase())
  return new Elysia({ name: 'request-origin', seed: allowedHosts?.join(',') ?? '*' }).onRequest(({ request }) => {
    const url = new URL(request.url)
    if (!options.isProtected(url.pathname)) return
    const refusal = refusalOf(request.headers, url, allowedHosts)
    if (refusal !== undefined) throw new RequestError('PERMISSION_DENIED', refusal)
  })
}

/** Why the request is refused, or undefined when it may go on. Pure, for the tests. */
export function refusalOf(headers: Headers, url: URL, allowedHosts: readonly string[] | undefined): string | undefined {
  const fetchSite = headers.get('sec-fetch-site')?.toLowerCase()
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return `A browser marked this request ${fetchSite}: the management API does not accept requests from other web sites`
  }
  const origin = headers.get('origin')
  if (origin !== null && !isSameOrigin(origin, url)) {
    return `Requests from the web origin ${JSON.stringify(origin.slice(0, 200))} are not accepted: the management API accepts no cross-origin requests`
  }
  if (allowedHosts !== undefined && !isAllowedHost(url.hostname, allowedHosts)) {
    return (
      `The Host ${JSON.stringify(url.host.slice(0, 200))} is not allowed: without credentials (--insecure) the management API ` +
      'answers only loopback names and addresses and those of --allowed-hosts'
    )
  }
  return undefined
}

function isSameOrigin(origin: string, url: URL): boolean {
  try {
    const parsed = new URL(origin)
    // The host alone: behind a TLS-terminating proxy the page is https while this listener sees http.
    return parsed.host === url.host
  } catch {
    return false // `null` (sandboxed frames, file: pages) and anything else unreadable
  }
}

/** Loopback: `localhost` and its subdomains (RFC 6761 reserves them), 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (name === '[::1]' || name === '::1') return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
}

function isAllowedHost(hostname: string, allowedHosts: readonly string[]): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  return isLoopbackHost(name) || allowedHosts.includes(name)
}
