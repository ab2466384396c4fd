import { createPublicKey, type KeyObject } from 'node:crypto'
import { AnchorInvalid } from './errors.js'
import { importStatementPublicKey, signStatement, verifyStatement } from './statement-keys.js'

/**
 * A signed statement of the audit chain's head: "the chain held `entries` entries, the last one hashing to
 * `headHash`, at `at`". Kept outside the store, it lets `audit verify` detect a chain cut short (fewer
 * entries) or rebuilt from scratch (another hash at that position), which the chain alone cannot show.
 */
export interface AnchorStatement {
  readonly type: 'countersign.audit-anchor'
  readonly version: 1
  readonly entries: number
  readonly headHash: string
  /** Milliseconds since the epoch. */
  readonly at: number
}

/** The anchor file: the statement, its signature and the signer's public key (pin it with --anchor-key). */
export interface AuditAnchor {
  readonly statement: AnchorStatement
  readonly signature: string
  readonly publicKey: string
}

export function signAnchor(
  head: { entries: number; headHash: string; at: number },
  privateKey: KeyObject,
): AuditAnchor {
  const statement: AnchorStatement = {
    type: 'countersign.audit-anchor',
    version: 1,
    entries: head.entries,
    headHash: head.headHash,
    at: head.at,
  }
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string
  return { statement, signature: signStatement(statement, privateKey), publicKey }
}

const HASH = /^[0-9a-f]{64}$/

function statementOf(value: unknown, label: string): AnchorStatement {
  const statement = value as Partial<AnchorStatement> | null
  if (
    typeof statement !== 'object' ||
    statement === null ||
    statement.type !== 'countersign.audit-anchor' ||
    statement.version !== 1 ||
    !Number.isSafeInteger(statement.entries) ||
    statement.entries! < 1 ||
    typeof statement.headHash !== 'string' ||
    !HASH.test(statement.headHash) ||
    !Number.isSafeInteger(statement.at)
  )
    throw new AnchorInvalid(`${label} is not an audit anchor (write one with countersign audit anchor)`)
  return {
    type: statement.type,
    version: statement.version,
    entries: statement.entries!,
    headHash: statement.headHash,
    at: statement.at!,
  }
}

/**
 * Reads an anchor file and returns its statement once its signature verifies, with `pinnedKeyPem` when
 * given (the operator's anchor key: an anchor re-signed by anyone else is refused), else with the key the
 * file carries (which proves integrity of the file, not who wrote it).
 */
export function readAnchor(
  text: string,
  label: string,
  pinnedKeyPem?: string,
): { statement: AnchorStatement; fingerprint: string; pinned: boolean } {
  let parsed: Partial<AuditAnchor>
  try {
    parsed = JSON.parse(text) as Partial<AuditAnchor>
  } catch {
    throw new AnchorInvalid(`${label} is not JSON (write an anchor with countersign audit anchor)`)
  }
  const statement = statementOf(parsed.statement, label)
  if (typeof parsed.signature !== 'string' || typeof parsed.publicKey !== 'string')
    throw new AnchorInvalid(
      `${label} has no signature or public key (write one with countersign audit anchor)`,
    )
  const key = importStatementPublicKey(
    pinnedKeyPem ?? parsed.publicKey,
    pinnedKeyPem ? 'the anchor key' : label,
  )
  if (!verifyStatement(statement, parsed.signature, key.pem)) {
    throw new AnchorInvalid(
      pinnedKeyPem
        ? `${label} is not signed by the anchor key (sha256 ${key.fingerprint}): the anchor was altered or signed by someone else`
        : `${label}'s signature does not verify: the anchor file was altered`,
    )
  }
  return { statement, fingerprint: key.fingerprint, pinned: pinnedKeyPem !== undefined }
}
