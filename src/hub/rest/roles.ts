/**
 * The workspace roles of hub-api.md §6 and who may do what. Every `/v1` route names the roles it admits in
 * its route `config` (`{ roles: READERS }`); the authentication hook refuses anyone else with −8.
 */
export const ROLES = [
  'OWNER',
  'ADMIN',
  'NON_SIGNING_ADMIN',
  'SIGNER',
  'APPROVER',
  'EDITOR',
  'VIEWER',
] as const
export type Role = (typeof ROLES)[number]

/** Reads: every role (the SDK's "Endpoint Permission" for GETs). */
export const READERS: readonly Role[] = ROLES
/** Create transactions, vault accounts and wallets: everyone but a Viewer. */
export const INITIATORS: readonly Role[] = [
  'OWNER',
  'ADMIN',
  'NON_SIGNING_ADMIN',
  'SIGNER',
  'APPROVER',
  'EDITOR',
]
/** Workspace management: API users, co-signers, deposit addresses. */
export const ADMINS: readonly Role[] = ['OWNER', 'ADMIN', 'NON_SIGNING_ADMIN']
/** Who votes on policy drafts, through the API, their co-signers or the workspace console. */
export const POLICY_VOTERS: readonly Role[] = ['OWNER', 'ADMIN']

export function mayVoteOnPolicy(role: string): boolean {
  return (POLICY_VOTERS as readonly string[]).includes(role)
}

/** Only these API users can be paired with a co-signer and hold key shares. */
export const SIGNING_ROLES: readonly Role[] = ['ADMIN', 'SIGNER']

/** The authenticated API user a `/v1` handler acts for. */
export interface ApiPrincipal {
  readonly id: string
  readonly name: string
  readonly role: Role
}

/** What a `/v1` route declares in its Fastify route `config`. */
export interface HubRouteConfig {
  readonly roles: readonly Role[]
}

const principals = new WeakMap<object, ApiPrincipal>()

/** Called by the authentication hook once a request is verified; `request` is Fastify's request object. */
export function setPrincipal(request: object, principal: ApiPrincipal): void {
  principals.set(request, principal)
}

/** The API user a request was authenticated as; throws when the route is not behind authentication. */
export function principalOf(request: object): ApiPrincipal {
  const principal = principals.get(request)
  if (principal === undefined)
    throw new Error('no authenticated API user: the route is not behind authentication')
  return principal
}
