import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { describeFileError, errnoCode, formatZodIssues, isWellFormedText } from './index.js'

describe('formatZodIssues', () => {
  it('names each failing field by its path, and the value itself as (root)', () => {
    const schema = z.object({ a: z.object({ b: z.array(z.number()) }), c: z.string() })
    const result = schema.safeParse({ a: { b: [1, 'x'] } })
    expect(result.success).toBe(false)
    expect(formatZodIssues(result.error!)).toEqual([
      'a.b.1: Invalid input: expected number, received string',
      'c: Invalid input: expected string, received undefined',
    ])
    expect(formatZodIssues(z.string().safeParse(1).error!)).toEqual([
      '(root): Invalid input: expected string, received number',
    ])
  })
})

describe('errno errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-errno-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const failureOf = (read: () => unknown): unknown => {
    try {
      read()
    } catch (error) {
      return error
    }
    throw new Error('expected a failure')
  }

  it('turns system call failures into a few words, never the message', () => {
    const missing = failureOf(() => readFileSync(join(dir, 'missing.pem')))
    expect(errnoCode(missing)).toBe('ENOENT')
    expect(describeFileError(missing)).toBe('no such file')
    expect(describeFileError(failureOf(() => readFileSync(dir)))).toBe('it is a directory')
    expect(describeFileError(Object.assign(new Error('x'), { code: 'EMFILE' }))).toBe('I/O error (EMFILE)')
    expect(describeFileError(new Error('/secret/path'))).toBe('I/O error')
    expect(errnoCode('ENOENT')).toBeUndefined()
  })
})

describe('isWellFormedText', () => {
  it('refuses lone surrogates only', () => {
    expect(isWellFormedText('plain \ud83d\ude00 pair')).toBe(true)
    expect(isWellFormedText('end \ud83d')).toBe(false)
    expect(isWellFormedText('\ude00 start')).toBe(false)
  })
})
