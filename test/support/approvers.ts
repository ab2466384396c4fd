/** Approver keys and signed votes for store and handler tests: what `approvals approve --key` produces. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import {
  checkVote,
  importStatementPublicKey,
  signVote,
  VOTE_WINDOW_MS,
  type VoteFacts,
} from '../../src/keys/index.js'
import type { HeldRequest, SignedVoteInput, Store } from '../../src/storage/index.js'

/** The vote rules the CLI gives the store (storage tests may not import the keys module themselves). */
export const voteVerifier = checkVote
export { VOTE_WINDOW_MS }

/** An approval of a held request, as the unit tests of the vote rules sign it. */
export const sampleVote: VoteFacts = {
  route: 'tx',
  requestId: 'r-1',
  payloadDigest: 'a'.repeat(64),
  decision: 'approve',
  approver: 'alice',
  reason: null,
  signedAt: 1_800_000_000_000,
}

export interface ApproverKey {
  readonly privateKey: KeyObject
  readonly privatePem: string
  readonly publicPem: string
  readonly fingerprint: string
}

export function approverKey(kind: 'ed25519' | 'p256' = 'ed25519'): ApproverKey {
  const { privateKey, publicKey } =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const imported = importStatementPublicKey(
    publicKey.export({ type: 'spki', format: 'pem' }) as string,
    'test key',
  )
  return {
    privateKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: imported.pem,
    fingerprint: imported.fingerprint,
  }
}

/** Registers `id` with a fresh key and returns the key. */
export async function registerApprover(store: Store, id: string): Promise<ApproverKey> {
  const key = approverKey()
  await store.addApprover({ id, publicKey: key.publicPem, fingerprint: key.fingerprint })
  return key
}

/** `approver`'s vote on `held`, signed with `key` (by default over exactly the recorded request). */
export function signedVote(
  held: Pick<HeldRequest, 'route' | 'requestId' | 'payloadDigest'>,
  approver: string,
  key: ApproverKey,
  overrides: Partial<VoteFacts> = {},
): SignedVoteInput {
  const facts = {
    route: held.route,
    requestId: held.requestId,
    payloadDigest: held.payloadDigest,
    decision: 'approve' as const,
    approver,
    reason: null,
    signedAt: Date.now(),
    ...overrides,
  } as Omit<SignedVoteInput, 'signature'>
  return { ...facts, signature: signVote(facts, key.privateKey) }
}
