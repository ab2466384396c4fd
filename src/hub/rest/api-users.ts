import { randomUUID } from 'node:crypto'
import { isIPv4 } from 'node:net'
import { KeyMaterialKind, readKeyMaterial } from '../../keys/index.js'
import { importRsaPublicKey } from '../../protocol/index.js'
import {
  insertApiUser,
  setApiUserAllowedIps,
  type ApiUserRecord,
  type StorageDatabase,
} from '../../storage/index.js'
import { API_CODES, HubApiError } from './api-error.js'
import { ADMINS, ROLES, SIGNING_ROLES, type Role } from './roles.js'

/** `CreateAPIUser` of hub-api.md §6, as the SDK sends it. */
export interface NewApiUser {
  readonly name: string
  readonly role: string
  readonly csrPem: string
}

/** An API user can be given any workspace role but the Owner's, who is the operator and not an API key. */
export const API_USER_ROLES: readonly Role[] = ROLES.filter((role) => role !== 'OWNER')

/** Who may create an API user that can sign: not a Non-Signing Admin, whose role exists to keep it from signing. */
const SIGNER_CREATORS: readonly Role[] = ['OWNER', 'ADMIN']

/** Whether someone in `creatorRole` may create an API user in `role` (the REST API and the console alike). */
export function mayCreateApiUser(creatorRole: string, role: string): boolean {
  if (!(ADMINS as readonly string[]).includes(creatorRole)) return false
  return (
    !(SIGNING_ROLES as readonly string[]).includes(role) ||
    (SIGNER_CREATORS as readonly string[]).includes(creatorRole)
  )
}

const invalid = (message: string) => new HubApiError(400, API_CODES.validation, message)

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

/** The SPKI PEM of the CSR's key, once its self-signature verifies and the key is RSA of 2048 bits or more. */
function csrPublicKeyPem(csrPem: string): string {
  try {
    const { publicKey } = readKeyMaterial(csrPem, { label: 'csrPem', expect: [KeyMaterialKind.csr] })
    const rsaKey = importRsaPublicKey(publicKey, 'the key of csrPem')
    return rsaKey.export({ type: 'spki', format: 'pem' }).toString()
  } catch (error) {
    throw invalid(`csrPem is not a usable CSR: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/**
 * Registers an API user (the REST API's `createApiUser`, or the CLI bootstrapping the first admin): its
 * API key is a new UUID and its JWTs verify with the key of its CSR. Input errors are `HubApiError` 400.
 */
export async function registerApiUser(
  database: StorageDatabase,
  input: NewApiUser,
  now: number,
  options: { readonly allowOwner?: boolean } = {},
): Promise<ApiUserRecord> {
  const name = input.name.trim()
  if (name.length === 0 || name.length > 200) throw invalid('name must hold 1 to 200 characters')
  // The Owner is created once, by `hub init` on the workspace's own store; never through the API.
  const owner = options.allowOwner === true && input.role === 'OWNER'
  if (!owner && !(API_USER_ROLES as readonly string[]).includes(input.role)) {
    throw invalid(`role must be one of ${API_USER_ROLES.join(', ')}`)
  }
  const user: ApiUserRecord = {
    id: randomUUID(),
    name,
    role: input.role,
    publicKeyPem: csrPublicKeyPem(input.csrPem),
    allowedIps: [],
    enabled: true,
    createdAt: now,
  }
  await database.write(({ db }) => insertApiUser(db, user))
  return user
}

/**
 * Replaces an API user's IP allow-list: single IPv4 addresses (Fireblocks allows /32 only, hub-api.md
 * §2.6), an empty list admitting any address. An Owner's operation: the REST API has no endpoint for it.
 */
export async function setAllowedIps(
  database: StorageDatabase,
  apiUserId: string,
  addresses: readonly string[],
): Promise<void> {
  const list = addresses.map((address) => address.trim().replace(/\/32$/, ''))
  const wrong = list.filter((address) => !isIPv4(address))
  if (wrong.length > 0) throw invalid(`not single IPv4 addresses: ${wrong.join(', ')}`)
  await database.write(({ db }) => setApiUserAllowedIps(db, apiUserId, [...new Set(list)]))
}
