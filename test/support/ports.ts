import { createServer } from 'node:net'

/**
 * A loopback TCP port that was free a moment ago: the kernel picks it, we release it, the caller binds it.
 * Another process may take it in between; tests that bind it themselves prefer listening on port 0.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}
