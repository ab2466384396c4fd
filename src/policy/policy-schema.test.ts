/**
 * The JSON Schemas under schemas/ are generated from the zod schemas the loader validates with, so
 * editors autocomplete exactly what the engine accepts. Regenerate with UPDATE_SCHEMAS=1 npx vitest run
 * src/policy/policy-schema.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { PolicyCasesSchema } from './policy-cases.js'
import { PolicyFileSchema } from './policy-schema.js'
import { TransactionPolicyFileSchema } from './transaction/schema.js'

const SCHEMAS = join(import.meta.dirname, '..', '..', 'schemas')

function generated(schema: z.ZodType, id: string, title: string): string {
  const json = { ...z.toJSONSchema(schema, { io: 'input' }), $id: id, title }
  return `${JSON.stringify(json, null, 2)}\n`
}

describe.each([
  ['policy.schema.json', PolicyFileSchema, 'Countersign policy file'],
  ['policy-test.schema.json', PolicyCasesSchema, 'Countersign policy test cases'],
  ['transaction-policy.schema.json', TransactionPolicyFileSchema, 'Countersign hub transaction policy'],
] as const)('%s', (file, schema, title) => {
  const expected = generated(schema, `https://countersign.dev/schemas/${file}`, title)
  if (process.env.UPDATE_SCHEMAS === '1') writeFileSync(join(SCHEMAS, file), expected)

  it('is the schema the loader validates with', () => {
    // Compared as JSON, so formatting the file (prettier) does not matter.
    expect(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8'))).toEqual(JSON.parse(expected))
  })
})

describe('policy.schema.json', () => {
  it('describes the sections and refuses unknown top-level keys', () => {
    const schema = JSON.parse(readFileSync(join(SCHEMAS, 'policy.schema.json'), 'utf8')) as {
      properties: Record<string, unknown>
      required: string[]
      additionalProperties: boolean
    }
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'version',
        'defaults',
        'lists',
        'velocity',
        'guards',
        'tx_approval',
        'tx_signing',
        'config_change',
      ]),
    )
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'defaults']))
    expect(schema.additionalProperties).toBe(false)
  })
})
