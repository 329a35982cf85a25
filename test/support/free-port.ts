import { createServer, type AddressInfo } from 'node:net'

/** A loopback port free right now (the kernel's choice), for a listener a test starts or an address nobody answers. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
