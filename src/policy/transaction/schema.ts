import { z } from 'zod'
import { CelName, ConditionSchema, Identifier, ListSchema } from '../engine/index.js'
import { VelocityWindowSchema } from '../policy-schema.js'

/**
 * The hub's transaction policy file: one ordered first-match rule list over transactions created
 * through the REST API. No rule matched → BLOCK, always (there is no configurable default to get wrong).
 */
const Principals = z
  .array(z.string().min(1))
  .min(1)
  .describe('API user ids, or `group:NAME` for every member of a group declared under `groups`')

export const TransactionRuleSchema = z.strictObject({
  id: Identifier,
  description: z.string().optional(),
  match: z
    .record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]))
    .optional()
    .describe(
      'Field → allowed values; every field must match (e.g. {asset: [ETH], initiator: [group:traders]})',
    ),
  when: ConditionSchema.optional(),
  action: z.enum(['ALLOW', 'BLOCK', 'REQUIRE_APPROVAL']),
  approvers: z
    .strictObject({ quorum: z.int().min(1), of: Principals })
    .optional()
    .describe('REQUIRE_APPROVAL only: how many of which users must approve; one rejection denies'),
  signers: Principals.optional().describe(
    'Designated signers (API users) of a transaction the rule lets through; default: any',
  ),
  reason: z.string().max(200).optional(),
})

/** A velocity window of the transaction policy: the callback policy's, without request kinds. */
export const TransactionWindowSchema = VelocityWindowSchema.omit({ kinds: true })

export const TransactionPolicyFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.union([z.string().min(1), z.number()]),
  description: z.string().optional(),
  groups: z
    .record(Identifier, z.array(z.string().min(1)).min(1))
    .default({})
    .describe('Groups of API users, named in rules as `group:NAME`'),
  lists: z.record(CelName, ListSchema).default({}),
  velocity: z.array(TransactionWindowSchema).default([]),
  rules: z.array(TransactionRuleSchema).default([]),
})

export type TransactionRuleSpec = z.infer<typeof TransactionRuleSchema>
export type TransactionPolicyFile = z.infer<typeof TransactionPolicyFileSchema>
