import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { ListenAddress } from './config-fields.js'
import { describeError } from './describe-error.js'
import { StartupFailed } from './errors.js'

function listenFailure(error: unknown, address: ListenAddress, setting: string): StartupFailed {
  const where = `${address.host}:${address.port}`
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'EADDRINUSE')
    return new StartupFailed(
      'CS_SERVICE_PORT_IN_USE',
      `cannot listen on ${where}: another process already uses that port (EADDRINUSE); stop it or choose another port (${setting})`,
      { cause: error },
    )
  const fix =
    code === 'EACCES'
      ? 'ports below 1024 need privileges: choose a port of 1024 or more'
      : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
        ? 'that host is not an address of this machine: use one of its addresses, 127.0.0.1 or 0.0.0.0'
        : 'check the listen address'
  return new StartupFailed(
    'CS_SERVICE_LISTEN_FAILED',
    `cannot listen on ${where}: ${describeError(error)}; ${fix}`,
    { cause: error },
  )
}

/**
 * Listens and returns the URL as bound (the real port when 0 was asked); a failure says why in one line.
 * `setting` names where the operator changes the address, for the port-in-use fix.
 */
export async function listenOn(
  app: FastifyInstance,
  address: ListenAddress,
  tls: boolean,
  setting = 'listen: in the configuration, or --listen',
): Promise<string> {
  try {
    await app.listen({ host: address.host, port: address.port })
  } catch (error) {
    throw listenFailure(error, address, setting)
  }
  const bound = app.server.address() as AddressInfo
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  return `${tls ? 'https' : 'http'}://${host}:${bound.port}`
}
