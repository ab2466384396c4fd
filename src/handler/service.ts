import type { AddressInfo } from 'node:net'
import type { Clock } from '../core/index.js'
import pino, { type Logger } from 'pino'
import { loadPolicyFile, type CompiledPolicy } from '../policy/index.js'
import { openStore, type Store } from '../store/index.js'
import type { HandlerConfig } from './config.js'
import { buildServer } from './server.js'

export interface RunningHandler {
  /** `http(s)://host:port` as bound (the real port when 0 was asked). */
  readonly url: string
  readonly store: Store
  /** Re-reads the policy file; a policy that fails validation is refused and the running one kept. */
  reloadPolicy(): boolean
  /** Stops accepting, finishes in-flight requests, closes the store. */
  close(): Promise<void>
}

export interface StartOptions {
  readonly log?: Logger
  readonly clock?: Clock
}

/** Starts the callback handler: loads the policy and the store first, so it never listens half-ready. */
export async function startHandler(
  config: HandlerConfig,
  options: StartOptions = {},
): Promise<RunningHandler> {
  const log = options.log ?? pino({ level: config.logLevel, base: { service: 'countersign-handler' } })
  let policy: CompiledPolicy = loadPolicyFile(config.policyPath)
  const store = await openStore(config.storeUrl, options.clock ? { clock: options.clock } : {})
  const { app } = buildServer({
    config,
    policy: () => policy,
    store,
    log,
    ...(options.clock ? { clock: options.clock } : {}),
  })
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await store.close()
    throw error
  }
  const address = app.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `${config.tls ? 'https' : 'http'}://${host}:${address.port}`
  log.info(
    { url, basePath: config.basePath || '/', policyVersion: policy.version, store: store.dialect },
    'callback handler listening',
  )

  return {
    url,
    store,
    reloadPolicy() {
      try {
        const next = loadPolicyFile(config.policyPath)
        policy = next
        log.info({ policyVersion: next.version, digest: next.digest }, 'policy reloaded')
        return true
      } catch (error) {
        log.error(
          { err: error instanceof Error ? error.message : String(error) },
          'policy reload refused: keeping the running policy',
        )
        return false
      }
    },
    async close() {
      await app.close()
      await store.close()
    },
  }
}
