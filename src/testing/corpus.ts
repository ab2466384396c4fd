/**
 * The one fixture corpus: realistic callback payloads written from the field tables of protocol.md (§2
 * transactions, §3 configuration changes), stored as JSON under the package's `fixtures/` folder so an
 * installed package has them too (`countersign policy test` of a shipped example reads them). Tests, the
 * simulator and the conformance suite all read these files; each call returns a fresh copy.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `<package>/fixtures`: two levels up from `src/testing` and from `dist/testing` alike. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url))

export type FixtureFamily = 'tx' | 'config'

function names(family: FixtureFamily): string[] {
  return readdirSync(join(FIXTURES_DIR, family))
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort()
}

/** `btc-one-time-address`, `eth-transfer-approval`, `eth-transfer-signing`, `exchange-source`, `multi-destination`. */
export const TX_FIXTURES: readonly string[] = names('tx')
/** One per configuration-change type, e.g. `unmanaged-wallet`, `policy-approval`. */
export const CONFIG_FIXTURES: readonly string[] = names('config')

function load(family: FixtureFamily, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, family, `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >
}

export function loadTxFixture(name: string): Record<string, unknown> {
  return load('tx', name)
}

export function loadConfigFixture(name: string): Record<string, unknown> {
  return load('config', name)
}
