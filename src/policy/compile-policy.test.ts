import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compile, DEFAULTS, policyDir } from '../../test/policy/support.js'
import { compilePolicySource } from './compile-policy.js'
import { PolicyInvalid, type PolicyDiagnostic } from './errors.js'

function diagnosticsOf(text: string, files: Record<string, string> = {}, now?: Date): PolicyDiagnostic[] {
  return [
    ...compilePolicySource(text, {
      sourceName: 'test.yaml',
      ...(now === undefined ? {} : { now }),
      readListFile: (path) => {
        const file = files[path]
        if (file === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' })
        return { text: file, mtimeMs: Date.parse('2026-11-20T00:00:00Z') }
      },
    }).diagnostics,
  ]
}

function refused(text: string): PolicyInvalid {
  try {
    compile(text)
  } catch (error) {
    if (error instanceof PolicyInvalid) return error
    throw error
  }
  throw new Error('the policy loaded')
}

describe('load refusals', () => {
  it('a CEL type error refuses the policy, naming the rule, the line and the overload', () => {
    const error = refused(`version: 1
${DEFAULTS}
tx_signing:
  - id: bad
    when: amount_usd < "10000"
    action: APPROVE
`)
    expect(error.code).toBe('CS_POLICY_INVALID')
    expect(error.diagnostics).toEqual([
      {
        severity: 'error',
        path: 'tx_signing[0].when',
        line: 10,
        message: 'type error: no such overload: double < string',
      },
    ])
    expect(error.message).toBe(
      'policy test.yaml is invalid: line 10, tx_signing[0].when: type error: no such overload: double < string',
    )
  })

  it('reports every problem at once', () => {
    const error = refused(`version: 1
defaults:
  tx_approval: IGNORE
  tx_signing: IGNORE
  config_change: IGNORE
tx_signing:
  - id: ignore-it
    action: IGNORE
  - id: unknown-list
    when: dest.address in lists.nope
    action: APPROVE
  - id: unknown-window
    when: velocity.nope.count > 1
    action: APPROVE
  - id: too-long
    require: { quorum: 4, approvers: [alice, bob, alice], ttl: 2h }
  - id: ignore-it
    match: { colour: red }
    action: REJECT
`)
    const messages = error.diagnostics.map((diagnostic) => `${diagnostic.path}: ${diagnostic.message}`)
    expect(messages).toEqual(
      expect.arrayContaining([
        'defaults.tx_signing: IGNORE is not a valid answer to a signing request',
        'tx_signing[0].action: IGNORE is not a valid answer to a signing request (use REJECT, or IGNORE in tx_approval)',
        'tx_signing[1].when: type error: No such key: nope (lists: none; velocity windows counting this kind: none)',
        'tx_signing[2].when: type error: No such key: nope (lists: none; velocity windows counting this kind: none)',
        'tx_signing[3].require.approvers: an approver is listed twice',
        'tx_signing[3].require.quorum: quorum 4 cannot be reached by 2 approver(s)',
        expect.stringMatching(
          /^tx_signing\[3\]\.require\.ttl: ttl 2h is beyond the co-signer's retry window; at most 55m/,
        ),
        'tx_signing[4].id: id "ignore-it" is already used at tx_signing[0].id',
        'tx_signing[4].match.colour: unknown match field "colour" for tx_signing requests',
      ]),
    )
    // The action-less, condition-less first rule also catches everything below it.
    expect(error.diagnostics).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringMatching(/"too-long" is never reached/),
      }),
    )
  })

  it('schema problems name the path and the line', () => {
    const diagnostics = diagnosticsOf(`version: 1
${DEFAULTS}
tx_signing:
  - id: Bad Id
    action: MAYBE
`)
    expect(diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'tx_signing[0].id', line: 9, severity: 'error' }),
        expect.objectContaining({ path: 'tx_signing[0].action', line: 10, severity: 'error' }),
      ]),
    )
  })

  it('YAML syntax errors and duplicate keys are reported with their line', () => {
    expect(diagnosticsOf('version: 1\nversion: 2\n')[0]).toMatchObject({
      path: '(yaml)',
      line: 2,
      severity: 'error',
    })
    expect(diagnosticsOf('version: [1\n')[0]).toMatchObject({ path: '(yaml)', severity: 'error' })
  })

  it('missing defaults are refused: every kind needs an explicit default', () => {
    expect(diagnosticsOf('version: 1\ndefaults: { tx_signing: REJECT }\n')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'defaults.tx_approval' }),
        expect.objectContaining({ path: 'defaults.config_change' }),
      ]),
    )
  })

  it('APPROVE is not an on_error action', () => {
    const diagnostics = diagnosticsOf(`version: 1
defaults: { tx_approval: REJECT, tx_signing: REJECT, config_change: REJECT, on_error: { tx_signing: APPROVE } }
`)
    expect(diagnostics[0]).toMatchObject({ path: 'defaults.on_error.tx_signing', severity: 'error' })
  })

  it('conditions must be bool, within the AST limits, without nested comprehensions', () => {
    const diagnostics = diagnosticsOf(`version: 1
${DEFAULTS}
tx_signing:
  - { id: not-bool, when: amount_usd + 1.0, action: APPROVE }
  - { id: huge, when: "${Array.from({ length: 300 }, () => 'amount_usd > 1.0').join(' && ')}", action: APPROVE }
  - { id: nested, when: "!destinations.all(a, destinations.exists(b, a.address == b.address))", action: APPROVE }
  - { id: syntax, when: "amount_usd >", action: APPROVE }
`)
    expect(diagnostics.map((diagnostic) => `${diagnostic.path}: ${diagnostic.message}`)).toEqual([
      'tx_signing[0].when: must be a bool condition, but its type is double',
      'tx_signing[1].when: does not parse: Exceeded maxAstNodes (500)',
      'tx_signing[2].when: nested comprehensions (all/exists/map/filter inside another) are not allowed',
      'tx_signing[3].when: does not parse: Unexpected token: EOF',
    ])
  })

  it('the fee exists only at signing: reading it in tx_approval is a load error', () => {
    const diagnostics = diagnosticsOf(`version: 1
${DEFAULTS}
tx_approval:
  - { id: fee, when: "fee < decimal('1')", action: APPROVE }
tx_signing:
  - { id: fee, when: "fee < decimal('1')", action: APPROVE }
`)
    expect(diagnostics.map((diagnostic) => diagnostic.path)).toEqual([
      'tx_signing[0].id',
      'tx_approval[0].when',
    ])
  })

  it('a window that does not count approvals cannot be read in tx_approval', () => {
    const diagnostics = diagnosticsOf(`version: 1
${DEFAULTS}
velocity:
  - { id: vault_24h, window: 24h, group_by: [source.id] }
tx_approval:
  - { id: limit, when: velocity.vault_24h.sum_usd > 1.0, action: REJECT }
`)
    expect(diagnostics).toEqual([expect.objectContaining({ path: 'tx_approval[0].when', severity: 'error' })])
  })

  it('a guard whose condition does not type-check for a kind says how to narrow it', () => {
    const diagnostics = diagnosticsOf(`version: 1
${DEFAULTS}
guards:
  - { id: g, when: "extraInfo.asset == 'X'", kinds: [config_change, tx_signing] }
`)
    expect(diagnostics).toHaveLength(1)
    expect(diagnostics[0]!.message).toMatch(/checked for tx_signing; narrow the guard with `kinds`/)
  })

  it('velocity windows: bucket within the window, bounded bucket count, known group_by fields', () => {
    const diagnostics = diagnosticsOf(`version: 1
${DEFAULTS}
velocity:
  - { id: a, window: 1m, bucket: 2m }
  - { id: b, window: 30d, bucket: 1s }
  - { id: c, window: 1h, group_by: [colour] }
  - { id: a, window: 1h }
`)
    expect(diagnostics.map((diagnostic) => diagnostic.path)).toEqual([
      'velocity[0].bucket',
      'velocity[1].bucket',
      'velocity[2].group_by[0]',
      'velocity[3].id',
    ])
  })

  it('an unknown time zone or unreadable list file is refused', () => {
    const diagnostics = diagnosticsOf(
      `version: 1
timezone: Mars/Olympus
${DEFAULTS}
lists:
  missing: { file: nope.json }
  bad: { file: bad.json }
`,
      { 'bad.json': '{"not": "a list"}' },
    )
    expect(diagnostics.map((diagnostic) => `${diagnostic.path}: ${diagnostic.message}`)).toEqual([
      'timezone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Zurich)',
      'lists.bad.file: list file bad.json must hold a JSON or YAML array of strings',
      'lists.missing.file: cannot read list file nope.json (ENOENT)',
    ])
  })
})

describe('lint warnings (the policy still loads)', () => {
  it('a fail-open default', () => {
    const diagnostics = diagnosticsOf(`version: 1
defaults: { tx_approval: APPROVE, tx_signing: REJECT, config_change: IGNORE }
`)
    expect(diagnostics).toEqual([
      {
        severity: 'warning',
        path: 'defaults.tx_approval',
        line: 2,
        message: 'fail-open default: every tx_approval request no rule matches is approved',
      },
    ])
  })

  it('shadowed rules: an earlier unconditional rule whose match covers a later one', () => {
    const diagnostics = diagnosticsOf(`version: 1
${DEFAULTS}
tx_signing:
  - { id: eth-any, match: { asset: [ETH, BTC] }, action: REJECT }
  - { id: eth-small, match: { asset: ETH, operation: TRANSFER }, when: amount_usd < 10.0, action: APPROVE }
  - { id: usdc, match: { asset: USDC }, action: APPROVE }
  - { id: catch-all, action: REJECT }
  - { id: after-all, match: { asset: DAI }, action: APPROVE }
`)
    expect(diagnostics.map((diagnostic) => diagnostic.message)).toEqual([
      'rule "eth-small" is never reached: rule "eth-any" above it always matches first',
      'rule "after-all" is never reached: rule "catch-all" above it always matches first',
    ])
    expect(diagnostics.every((diagnostic) => diagnostic.severity === 'warning')).toBe(true)
  })

  it('a conditional rule shadows nothing', () => {
    expect(
      diagnosticsOf(`version: 1
${DEFAULTS}
tx_signing:
  - { id: a, when: amount_usd > 1.0, action: REJECT }
  - { id: b, action: APPROVE }
`),
    ).toEqual([])
  })

  it('nothing for regular expressions: matches() runs in linear time', () => {
    expect(
      diagnosticsOf(`version: 1
${DEFAULTS}
guards:
  - { id: invoice-note, when: "note.matches('^(a+)+$')" }
tx_signing:
  - { id: memo, when: "note.matches('INV-[0-9]+')", action: APPROVE }
  - { id: negated, when: "!matches(note, 'x')", action: REJECT }
`),
    ).toEqual([])
  })

  it('a list file older than its max_age at check time', () => {
    const diagnostics = diagnosticsOf(
      `version: 1
${DEFAULTS}
lists:
  blocked: { file: blocked.json, max_age: 1d }
`,
      { 'blocked.json': '["a"]' },
      new Date('2026-11-22T00:00:01Z'),
    )
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'lists.blocked.max_age' }),
    ])
  })
})

describe('digest', () => {
  it('covers the policy text and the content of the lists it loaded', () => {
    const dir = policyDir()
    const text = `version: 1
${DEFAULTS}
lists:
  blocked: { file: blocked.json }
`
    writeFileSync(join(dir, 'blocked.json'), '["a"]')
    const first = compile(text, dir).digest
    expect(compile(text, dir).digest).toBe(first)
    writeFileSync(join(dir, 'blocked.json'), '["a", "b"]')
    expect(compile(text, dir).digest).not.toBe(first)
    expect(compile(`${text}\n# a comment\n`, dir).digest).not.toBe(compile(text, dir).digest)
  })
})
