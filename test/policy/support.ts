/** Shared helpers of the policy tests: compile inline YAML, build inputs from fixtures, zero snapshots. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  compilePolicy,
  decideNow,
  ZERO_FIGURES,
  type CompiledPolicy,
  type PolicyDecision,
  type PolicyInput,
  type VelocityFigures,
} from '../../src/policy/index.js'
import { parseConfigChangeRequest, parseTxRequest, txRequestKind } from '../../src/protocol/index.js'
import { loadConfigFixture, loadTxFixture } from '../../src/testing/index.js'

export const NOW = new Date('2026-11-24T10:00:00Z')

export function policyDir(): string {
  return mkdtempSync(join(tmpdir(), 'countersign-policy-'))
}

export function compile(text: string, baseDir = policyDir(), now?: Date): CompiledPolicy {
  return compilePolicy(text, { sourceName: 'test.yaml', baseDir, ...(now === undefined ? {} : { now }) })
}

/** A transaction input from a fixture, with top-level fields overridden. */
export function txInput(
  fixture: string,
  overrides: Record<string, unknown> = {},
  kind?: PolicyInput['kind'],
): PolicyInput {
  const request = parseTxRequest({ ...loadTxFixture(fixture), ...overrides })
  return { kind: kind ?? txRequestKind(request), request, now: NOW }
}

export function configInput(fixture: string, overrides: Record<string, unknown> = {}): PolicyInput {
  return {
    kind: 'config_change',
    request: parseConfigChangeRequest({ ...loadConfigFixture(fixture), ...overrides }),
    now: NOW,
  }
}

/** A signing request of exactly `usd` dollars to a whitelisted vault. */
export function usdInput(usd: number): PolicyInput {
  const base = loadTxFixture('eth-transfer-signing')
  const destination = (base.destinations as Record<string, unknown>[])[0]!
  return txInput('eth-transfer-signing', { destinations: [{ ...destination, amountUSD: usd }] })
}

/** Decides `input` as the handler would, with the figures given by window id (else none yet). */
export function decideWith(
  policy: CompiledPolicy,
  input: PolicyInput,
  figures: Record<string, VelocityFigures> = {},
): PolicyDecision {
  return decideNow(policy, input, (probe) => figures[probe.windowId] ?? ZERO_FIGURES)
}

export const DEFAULTS = `
defaults:
  tx_approval: REJECT
  tx_signing: REJECT
  config_change: REJECT
`
