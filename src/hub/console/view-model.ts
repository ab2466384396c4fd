import type {
  ApiUserRecord,
  CallbackHandlerConfig,
  HubTransaction,
  LinkParty,
  StatusChange,
} from '../../storage/index.js'
import { SIGNING_ROLES, type Role } from '../rest/roles.js'
import { isAvailable } from '../signing/signer-directory.js'

const at = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString())

export function apiUserRow(user: ApiUserRecord) {
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    enabled: user.enabled,
    allowedIps: user.allowedIps.join(', '),
    signs: SIGNING_ROLES.includes(user.role as Role),
    createdAt: at(user.createdAt),
  }
}

/** A co-signer as the console shows it: paired or not, heard from when, available to sign now. */
export function cosignerRow(
  name: string,
  party: LinkParty | undefined,
  handler: CallbackHandlerConfig | undefined,
  now: number,
) {
  const pairing = party === undefined ? 'not paired' : party.revokedAt === null ? 'paired' : 'unpaired'
  return {
    name,
    kind: party?.kind ?? 'customer',
    cosignerId: party?.cosignerId ?? '-',
    pairing,
    availability: party !== undefined && isAvailable(party, now) ? 'available' : 'unavailable',
    enrolledAt: at(party?.enrolledAt ?? null),
    lastSeen: at(party?.lastSeen ?? null),
    callbackHandler: handler?.url ?? '-',
  }
}

export function transactionRow(tx: HubTransaction) {
  return {
    id: tx.id,
    createdAt: at(tx.createdAt),
    lastUpdated: at(tx.lastUpdated),
    operation: tx.operation,
    assetId: tx.assetId,
    source: tx.sourceId ?? '-',
    status: tx.status,
    subStatus: tx.subStatus,
    ruleId: tx.ruleId ?? '-',
    signer: tx.signer ?? '-',
    attempt: tx.attempt,
    createdBy: tx.createdBy,
  }
}

export function timeline(history: readonly StatusChange[]) {
  return history.map((change) => ({ status: change.status, subStatus: change.subStatus, at: at(change.at) }))
}
