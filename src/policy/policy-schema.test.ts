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

/**
 * Whether this run rewrites the schema files. Refused under CI: a run that writes the files and then
 * compares them with themselves can never fail, so CI must only compare.
 */
function rewritesSchemas(env: NodeJS.ProcessEnv): boolean {
  if (env.UPDATE_SCHEMAS !== '1') return false
  if (env.CI === 'true')
    throw new Error(
      'UPDATE_SCHEMAS=1 is refused under CI=true (the comparison could not fail); regenerate the schemas locally and commit them',
    )
  return true
}
const rewriting = rewritesSchemas(process.env)

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
  if (rewriting) writeFileSync(join(SCHEMAS, file), expected)

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

describe('UPDATE_SCHEMAS', () => {
  it('rewrites the files only when asked, and never under CI', () => {
    expect(rewritesSchemas({})).toBe(false)
    expect(rewritesSchemas({ UPDATE_SCHEMAS: '1' })).toBe(true)
    expect(rewritesSchemas({ CI: 'true' })).toBe(false)
    expect(() => rewritesSchemas({ UPDATE_SCHEMAS: '1', CI: 'true' })).toThrow(/refused under CI=true/)
  })
})
