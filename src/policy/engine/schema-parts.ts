import { z } from 'zod'
import { DURATION_PATTERN } from '../../core/index.js'

/** Schema pieces every policy instance's file shares (zod; the JSON Schemas are generated from them). */

export const Identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'expected a lower-case identifier (letters, digits, "_" and "-")')

/** Window and list names become CEL field names (`velocity.vault_24h`), so no hyphens there. */
export const CelName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a lower-case name of letters, digits and "_"')

export const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'expected a duration such as 500ms, 30s, 5m, 24h or 7d')
  .meta({ examples: ['5m', '24h'] })

export const Condition = z
  .string()
  .min(1)
  .describe('A CEL expression of type bool, type-checked when the policy loads')

export const ListSchema = z.union([
  z.array(z.string()),
  z.strictObject({
    file: z.string().min(1).describe('JSON or YAML array of strings, relative to the policy file'),
    max_age: Duration.optional().describe(
      'Older than this (file modification time) → conditions using it fail closed',
    ),
  }),
])

export type ListSpec = z.infer<typeof ListSchema>
