import { z } from 'zod'
import { CelName, ConditionSchema, Identifier, ListSchema } from '../engine/index.js'

/**
 * The hub's transaction policy file: one ordered first-match rule list over transactions created
 * through the REST API. No rule matched → BLOCK, always (there is no configurable default to get wrong).
 */
const Principals = z.array(z.string().min(1)).min(1)

export const TransactionRuleSchema = z.strictObject({
  id: Identifier,
  description: z.string().optional(),
  match: z
    .record(z.string(), z.union([z.string(), z.array(z.string()).min(1)]))
    .optional()
    .describe('Field → allowed values; every field must match (e.g. {asset: [ETH], source.id: ["0"]})'),
  when: ConditionSchema.optional(),
  action: z.enum(['ALLOW', 'BLOCK', 'REQUIRE_APPROVAL']),
  approvers: z
    .strictObject({ quorum: z.int().min(1), of: Principals })
    .optional()
    .describe('REQUIRE_APPROVAL only: how many of which users must approve'),
  signers: Principals.optional().describe(
    'Designated signers (API users or co-signers) of an allowed transaction; default: any',
  ),
  reason: z.string().max(200).optional(),
})

export const TransactionPolicyFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.union([z.string().min(1), z.number()]),
  description: z.string().optional(),
  lists: z.record(CelName, ListSchema).default({}),
  rules: z.array(TransactionRuleSchema).default([]),
})

export type TransactionRuleSpec = z.infer<typeof TransactionRuleSchema>
export type TransactionPolicyFile = z.infer<typeof TransactionPolicyFileSchema>
