/** Where the emulator listens and how the client should connect to it. */

export const emulatorHost = '127.0.0.1'

/**
 * `discoveryInterval=10` because the client's Rust read bridge otherwise waits ~500 ms for discovery before
 * its first read (measured); with it, ~25–65 ms.
 */
export function emulatorConnectionString(port: number): string {
  return `kurrentdb://${emulatorHost}:${port}?tls=false&discoveryInterval=10`
}

/**
 * For an emulator serving TLS: `localhost`, because TLS refuses a server name given as an IP address, and the
 * certificate names both. Credentials go in front of the host (`user:password@`), as with any KurrentDB.
 */
export function secureEmulatorConnectionString(port: number, caFile: string, credentials?: { user: string; password: string }): string {
  const userInfo = credentials === undefined ? '' : `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@`
  return `kurrentdb://${userInfo}localhost:${port}?tls=true&tlsCAFile=${encodeURIComponent(caFile)}&discoveryInterval=10`
}
