import { describe, expect, it } from 'vitest'
import { compile, DEFAULTS, txInput } from '../../test/policy/support.js'
import { compilePolicySource } from './compile-policy.js'
import { decideNow } from './decide.js'

/** Issue 11 item 7: `matches()` must not block the event loop, whatever the pattern and the input. */
describe('matches() in linear time', () => {
  const evilPolicy = `version: 1
${DEFAULTS}
guards:
  - { id: evil, when: "note.matches('^(a+)+$')" }
tx_signing:
  - { id: invoice, when: "note.matches('INV-[0-9]+')", action: APPROVE }
  - { id: anchored, when: "matches(note, '^x$')", action: APPROVE }
`

  it('answers a catastrophic-backtracking pattern on a hostile note at once (57 s with RegExp)', () => {
    const policy = compile(evilPolicy)
    const input = txInput('eth-transfer-signing', { note: `${'a'.repeat(31)}!` })
    const started = performance.now()
    const decision = decideNow(policy, input)
    // A generous bound: the backtracking engine needs about a minute for this input, RE2 microseconds.
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(decision.trace.guards).toEqual([expect.objectContaining({ id: 'evil', result: false })])
    expect(decision.action).toBe('REJECT')
    expect(decision.trace.decided_by).toBe('default')
  })

  it('keeps CEL semantics: a partial match unless anchored, in both call forms', () => {
    const policy = compile(evilPolicy)
    expect(decideNow(policy, txInput('eth-transfer-signing', { note: 'paid INV-42 today' })).ruleId).toBe(
      'invoice',
    )
    expect(decideNow(policy, txInput('eth-transfer-signing', { note: 'x' })).ruleId).toBe('anchored')
    expect(decideNow(policy, txInput('eth-transfer-signing', { note: 'xx' })).ruleId).toBeNull()
    expect(decideNow(policy, txInput('eth-transfer-signing', { note: 'aaaa' })).ruleId).toBe('evil')
  })

  it.each([
    ['a backreference', String.raw`(a)\\\\1`],
    ['a lookahead', '(?=a)b'],
    ['a lookbehind', '(?<=a)b'],
  ])('refuses %s at load, on the line of the condition', (_name, pattern) => {
    const result = compilePolicySource(
      `version: 1\n${DEFAULTS}\ntx_signing:\n  - id: memo\n    when: "note.matches('${pattern}')"\n    action: APPROVE\n`,
      { sourceName: 'test.yaml', readListFile: () => ({ text: '[]', mtimeMs: 0 }) },
    )
    expect(result.program).toBeUndefined()
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        path: 'tx_signing[0].when',
        line: 10,
        message: expect.stringMatching(/RE2 syntax, without backreferences or lookaround/),
      }),
    ])
  })

  it('refuses a pattern that is not a literal: it could not be checked at load', () => {
    const result = compilePolicySource(
      `version: 1\n${DEFAULTS}\nguards:\n  - { id: self, when: "note.matches(note)" }\n`,
      { sourceName: 'test.yaml', readListFile: () => ({ text: '[]', mtimeMs: 0 }) },
    )
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ path: 'guards[0].when', line: 9, message: expect.stringMatching(/literal/) }),
      expect.objectContaining({ path: 'guards[0].when', line: 9, message: expect.stringMatching(/literal/) }),
    ])
  })
})
