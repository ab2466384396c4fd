/**
 * The co-signer appends a fixed suffix to the base URL configured for a handler (protocol.md §1.2).
 * JWT modes use `/v2/...`; certificate modes send plain JSON to the same names without `/v2`.
 */
export type AuthMode = 'jwt' | 'certificate'
/** The two callback routes: transaction signing and configuration changes. */
export const CALLBACK_ROUTES = ['tx', 'config'] as const
export type CallbackRoute = (typeof CALLBACK_ROUTES)[number]

const ROUTE_NAMES: Record<CallbackRoute, string> = {
  tx: 'tx_sign_request',
  config: 'config_change_sign_request',
}

/** Normalises a base path: leading slash, no trailing slash, `''` for the root. */
export function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.trim().replace(/\/+$/, '')
  if (trimmed === '') return ''
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

export function callbackPath(basePath: string, mode: AuthMode, route: CallbackRoute): string {
  const prefix = mode === 'jwt' ? '/v2' : ''
  return `${normalizeBasePath(basePath)}${prefix}/${ROUTE_NAMES[route]}`
}

export const HEALTH_PATHS = { live: '/healthz', ready: '/readyz', metrics: '/metrics' } as const
