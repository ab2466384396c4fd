import { z } from 'zod'
import { DURATION_PATTERN } from '../core/index.js'

/**
 * The policy file, as zod schemas. They are the single source of truth: the loader validates with them
 * and `schemas/policy.schema.json` (for editor autocompletion) is generated from them (see
 * policy-schema.test.ts).
 */

const Identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'expected a lower-case identifier (letters, digits, "_" and "-")')

/** Window and list names become CEL field names (`velocity.vault_24h`), so no hyphens there. */
const CelName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a lower-case name of letters, digits and "_"')

const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'expected a duration such as 500ms, 30s, 5m, 24h or 7d')
  .meta({ examples: ['5m', '24h'] })

const ActionName = z.enum(['APPROVE', 'REJECT', 'RETRY', 'IGNORE'])
const TxKind = z.enum(['tx_approval', 'tx_signing'])
const AnyKind = z.enum(['tx_approval', 'tx_signing', 'config_change'])

const Condition = z
  .string()
  .min(1)
  .describe('A CEL expression of type bool, type-checked when the policy loads')

export const QuorumSchema = z
  .strictObject({
    quorum: z.int().min(1).describe('How many distinct approvers must approve'),
    approvers: z.array(z.string().min(1)).min(1).describe('Who may vote; any one of them can veto'),
    ttl: Duration.describe('How long votes are collected; at most 55m (the co-signer stops retrying at 60m)'),
  })
  .describe('Hold the request for human approval: RETRY until the quorum approves, REJECT on veto or expiry')

export const RuleSchema = z.strictObject({
  id: Identifier,
  description: z.string().optional(),
  match: z
    .record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]))
    .optional()
    .describe('Field → allowed values; every field must match (e.g. {asset: [ETH, USDC], dest.type: VAULT})'),
  when: Condition.optional(),
  action: ActionName.optional().describe('Required unless `require` is set (which implies RETRY)'),
  reason: z.string().max(200).optional().describe('One line; sent to the co-signer as rejectionReason'),
  require: QuorumSchema.optional(),
})

export const GuardSchema = z.strictObject({
  id: Identifier,
  description: z.string().optional(),
  when: Condition,
  reason: z.string().max(200).optional(),
  kinds: z
    .array(AnyKind)
    .min(1)
    .optional()
    .describe('Request kinds the guard applies to; default: tx_approval and tx_signing'),
})

export const VelocityWindowSchema = z.strictObject({
  id: CelName,
  window: Duration.describe('Sliding window length'),
  bucket: Duration.optional().describe('Bucket granularity; default window/288, at least 1s'),
  group_by: z
    .array(z.string())
    .default([])
    .describe('Request fields that split the window into series, e.g. [source.id, asset]; [] = one series'),
  metrics: z
    .array(z.enum(['sum_usd', 'count']))
    .min(1)
    .default(['sum_usd', 'count']),
  kinds: z
    .array(TxKind)
    .min(1)
    .default(['tx_signing'])
    .describe('Which request kinds an APPROVE counts for (default tx_signing, so a transfer counts once)'),
})

export const ListSchema = z.union([
  z.array(z.string()),
  z.strictObject({
    file: z.string().min(1).describe('JSON or YAML array of strings, relative to the policy file'),
    max_age: Duration.optional().describe(
      'Older than this (file modification time) → conditions using it fail closed',
    ),
  }),
])

const OnErrorAction = z.enum(['REJECT', 'RETRY', 'IGNORE'])

export const PolicyFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.union([z.string().min(1), z.number()]).describe('Recorded with every decision'),
  description: z.string().optional(),
  timezone: z.string().default('UTC').describe('IANA time zone of `time.hour` / `time.weekday`'),
  defaults: z
    .strictObject({
      tx_approval: ActionName,
      tx_signing: ActionName,
      config_change: ActionName,
      on_error: z
        .strictObject({
          tx_approval: OnErrorAction.optional(),
          tx_signing: OnErrorAction.optional(),
          config_change: OnErrorAction.optional(),
        })
        .optional()
        .describe('Action when evaluation fails, per kind; default REJECT (never APPROVE)'),
    })
    .describe('What happens when no rule matches, per request kind; required and explicit'),
  lists: z.record(CelName, ListSchema).default({}),
  velocity: z.array(VelocityWindowSchema).default([]),
  guards: z.array(GuardSchema).default([]),
  tx_approval: z.array(RuleSchema).default([]),
  tx_signing: z.array(RuleSchema).default([]),
  config_change: z.array(RuleSchema).default([]),
})

export type PolicyFile = z.infer<typeof PolicyFileSchema>
export type RuleSpec = z.infer<typeof RuleSchema>
export type GuardSpec = z.infer<typeof GuardSchema>
export type VelocityWindowSpec = z.infer<typeof VelocityWindowSchema>
export type ListSpec = z.infer<typeof ListSchema>
