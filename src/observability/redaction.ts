/**
 * Credentials inside connection strings, for anything that shows one (logs, command-line errors). Pure.
 */

/**
 * `kurrentdb://user:pass@host?tls=false` → `kurrentdb://***@host?tls=false`. The user-info is everything between
 * `//` and the last `@` before the query: a password may hold `/`, `:`, `#` or an unencoded `@`, which a URL parser
 * would read as the start of a path or host. Text without `//` is redacted from its last `@` back to the start, since
 * a mistyped scheme still carries the credentials.
 */
export function redactConnectionString(connectionString: string): string {
  const query = connectionString.indexOf('?')
  const authorityAndPath = query === -1 ? connectionString : connectionString.slice(0, query)
  const rest = query === -1 ? '' : connectionString.slice(query)
  const at = authorityAndPath.lastIndexOf('@')
  if (at === -1) return connectionString
  const slashes = authorityAndPath.indexOf('//')
  const start = slashes !== -1 && slashes < at ? slashes + 2 : 0
  return `${authorityAndPath.slice(0, start)}***${authorityAndPath.slice(at)}${rest}`
}
