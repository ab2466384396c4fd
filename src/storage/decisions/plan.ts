import type { Action, RequestKind } from '../../protocol/index.js'
import type { AuditEventType } from '../audit/index.js'
import type { VelocityFigures, VelocitySeries } from '../velocity/index.js'

/**
 * The contract between the decision rules (outside this layer: the handler computes a plan with a pure
 * function) and the store, which reads the recorded state, asks for a plan, and executes it in one
 * transaction. The store decides nothing: it only reads state and applies plans.
 */

/** The callback routes; a request's identity is its route and its requestId. */
export type Route = 'tx' | 'config'

/** What the store records about a request besides the decision itself. */
export interface RequestFacts {
  readonly route: Route
  readonly requestId: string
  readonly payloadDigest: string
  readonly kind: RequestKind
  readonly signerId: string | null
  /** Audit fields: txId, source, destination, asset, amount (strings) — never keys or the JWT. */
  readonly summary: Readonly<Record<string, string | null>>
  /** The payload as canonical JSON (the text `payloadDigest` is the SHA-256 of), kept for `policy replay`. */
  readonly requestJson: string
  readonly receivedAt: number
}

export interface HoldRequirement {
  readonly quorum: number
  readonly approvers: readonly string[]
  readonly ttlMs: number
}

export interface Verdict {
  readonly action: Action
  readonly reason: string | null
  readonly ruleId: string | null
  readonly policyVersion: string
  readonly policyDigest: string
  readonly trace: unknown
  /** Set when the request is held for a human quorum; `action` is then RETRY. */
  readonly hold?: HoldRequirement
}

/**
 * Structurally the policy's `Vote` (declared here because the storage layer may not import the policy),
 * with what proves it: the approver's signature and their registered key. The store records only votes
 * whose signature verified; whoever counts them verifies again (a row may have been edited since).
 */
export interface RecordedVote {
  readonly approver: string
  readonly vote: 'approve' | 'reject'
  readonly reason?: string
  /** When the store recorded the vote. */
  readonly at: Date
  /** When the approver signed it, milliseconds since the epoch (null: an unsigned vote, never counted). */
  readonly signedAt: number | null
  readonly signature: string | null
  /**
   * The key the vote must verify with, SPKI PEM: the approver's registered key, or for a console vote the
   * passkey it was made with; null once the approver is removed (or the passkey is no longer theirs).
   */
  readonly publicKey: string | null
  /** The passkey of a console vote; null for a vote signed with the approver's key (CLI). */
  readonly credentialId: string | null
}

/** A decision as recorded, with what a plan needs to settle it. */
export interface RecordedState {
  readonly route: Route
  readonly requestId: string
  readonly payloadDigest: string
  readonly kind: string
  readonly status: 'final' | 'held'
  readonly action: Action
  readonly reason: string | null
  readonly ruleId: string | null
  readonly policyVersion: string
  readonly hold: HoldRequirement | null
  readonly heldAt: Date
  readonly votes: readonly RecordedVote[]
  /** False when the row does not match the audit entry that recorded it: it was edited in the database. */
  readonly intact: boolean
}

export interface SettleState {
  readonly facts: RequestFacts
  readonly recorded: RecordedState | undefined
  /** The figures before this request, aligned with the planner's `series` (read when nothing is recorded). */
  readonly figures: readonly VelocityFigures[]
  readonly now: Date
}

export interface Answer {
  readonly action: Action
  readonly reason: string | null
  readonly ruleId: string | null
  readonly policyVersion: string
}

export interface PlannedAudit {
  readonly event: AuditEventType
  readonly body: Record<string, unknown>
}

/**
 * - `repeat`: answer the recorded decision, change nothing.
 * - `alert`: answer `answer` without changing the recorded decision, and audit the alert (an altered
 *   replay, a recorded row that no longer matches its audit entry).
 * - `record`: record a new decision; `reserve` counts the request in its velocity series now (an
 *   approval, or a hold whose amount must stay counted while humans decide).
 * - `resolve`: settle a held request; `release` takes its reservation back (the humans said no).
 */
export type SettlePlan =
  | { readonly type: 'repeat' }
  | {
      readonly type: 'alert'
      readonly outcome: 'altered' | 'tampered'
      readonly answer: Answer
      readonly audit: PlannedAudit
    }
  | {
      readonly type: 'record'
      readonly verdict: Verdict
      readonly reserve: boolean
      readonly audit: Record<string, unknown>
    }
  | {
      readonly type: 'resolve'
      readonly action: Action
      readonly reason: string
      readonly release: boolean
      readonly audit: Record<string, unknown>
    }

export interface Planner {
  /** The velocity series the request falls in: their figures are read (under their locks) for `plan`. */
  readonly series: readonly VelocitySeries[]
  /** Pure: the same state gives the same plan. Must not throw (a throw fails this request alone). */
  plan(state: SettleState): SettlePlan
}

export interface Settlement extends Answer {
  readonly outcome: 'decided' | 'repeated' | 'resolved' | 'altered' | 'tampered'
}
