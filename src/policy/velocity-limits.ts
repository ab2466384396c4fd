import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { compileWindows } from './compile-velocity.js'
import { Diagnostics } from './engine/diagnostics.js'
import { loadPolicyFile } from './load-policy-file.js'
import { PolicyFileSchema } from './policy-schema.js'

/**
 * The velocity windows of a policy file and the limits its rules write on them, for `velocity show`.
 * A policy has no `limit:` key: a limit is a rule condition comparing a window's figure with a number
 * (`velocity.vault_24h.sum_usd + amount_usd > 50000.0`), so the limits are read from those conditions.
 */
export interface WindowLimit {
  readonly ruleId: string
  readonly metric: 'sum_usd' | 'count'
  /** The number the figure is compared with (USD for sum_usd). */
  readonly value: number
  /** The comparison as written, e.g. `velocity.vault_24h.sum_usd + amount_usd > 50000.0`. */
  readonly condition: string
}

export interface WindowDeclaration {
  readonly id: string
  readonly windowMs: number
  readonly bucketMs: number
  readonly groupBy: readonly string[]
  readonly limits: readonly WindowLimit[]
}

const COMPARISON =
  /velocity\.([A-Za-z_]\w*)\.(sum_usd|count)(?:\s*\+\s*amount_usd)?\s*(?:>=|<=|>|<|==)\s*(\d+(?:\.\d+)?)/g

function limitsIn(ruleId: string, when: string | undefined): (WindowLimit & { windowId: string })[] {
  if (when === undefined) return []
  return [...when.matchAll(COMPARISON)].map((match) => ({
    windowId: match[1]!,
    ruleId,
    metric: match[2] as WindowLimit['metric'],
    value: Number(match[3]),
    condition: match[0],
  }))
}

/** Loads the policy (refusing an invalid one with every problem) and lists its windows with their limits. */
export function readVelocityWindows(path: string): WindowDeclaration[] {
  loadPolicyFile(path)
  const file = PolicyFileSchema.parse(parseYaml(readFileSync(path, 'utf8')))
  const windows = compileWindows(file.velocity, new Diagnostics(() => undefined))
  const rules = [...file.guards, ...file.tx_approval, ...file.tx_signing, ...file.config_change]
  const limits = rules.flatMap((rule) => limitsIn(rule.id, rule.when))
  return windows.map((window) => ({
    id: window.id,
    windowMs: window.windowMs,
    bucketMs: window.bucketMs,
    groupBy: window.groupBy,
    limits: limits.filter((limit) => limit.windowId === window.id).map(({ windowId: _, ...limit }) => limit),
  }))
}
