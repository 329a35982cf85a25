/** Where the emulator listens and how the client should connect to it. */

export const emulatorHost = '127.0.0.1'

/**
 * `discoveryInterval=10` because the client's Rust read bridge otherwise waits ~500 ms for discovery before
 * its first read (measured); with it, ~25–65 ms.
 */
export function emulatorConnectionString(port: number): string {
  return `kurrentdb://${emulatorHost}:${port}?tls=false&discoveryInterval=10`
}
