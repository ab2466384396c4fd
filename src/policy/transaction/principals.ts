import type { Diagnostics, Path } from '../engine/index.js'

/** How rules name a group of API users declared under `groups:`. */
const GROUP_PREFIX = 'group:'

/** Source types whose transfers leave the workspace's custody through a third party's account. */
const EXCHANGE_OR_FIAT: ReadonlySet<string> = new Set([
  'EXCHANGE',
  'EXCHANGE_ACCOUNT',
  'FIAT',
  'FIAT_ACCOUNT',
])

/**
 * `names` with every `group:NAME` replaced by the group's members (at compile time: evaluation never sees
 * a group), without duplicates, in the order written. An unknown group is an error at its entry.
 */
export function expandPrincipals(
  names: readonly string[],
  groups: Readonly<Record<string, readonly string[]>>,
  at: Path,
  diagnostics: Diagnostics,
): string[] {
  const expanded = names.flatMap((name, index) => {
    if (!name.startsWith(GROUP_PREFIX)) return [name]
    const group = name.slice(GROUP_PREFIX.length)
    const members = Object.hasOwn(groups, group) ? groups[group] : undefined
    if (members === undefined) {
      const known = Object.keys(groups).join(', ') || 'none'
      diagnostics.error(
        [...at, index],
        `unknown group "${group}" (declare it under \`groups:\`; known: ${known})`,
      )
      return []
    }
    return members
  })
  return [...new Set(expanded)]
}

/**
 * A rule's `match` with its `initiator` groups expanded. `group:` is refused in any other field: groups
 * hold API users, so an asset or an address named `group:x` is a mistake, not a value.
 */
export function expandMatch(
  match: Readonly<Record<string, string | readonly string[]>> | undefined,
  groups: Readonly<Record<string, readonly string[]>>,
  at: Path,
  diagnostics: Diagnostics,
): Record<string, readonly string[]> | undefined {
  if (match === undefined) return undefined
  return Object.fromEntries(
    Object.entries(match).map(([field, values]) => {
      const written = typeof values === 'string' ? [values] : values
      if (field === 'initiator')
        return [field, expandPrincipals(written, groups, [...at, field], diagnostics)]
      written.forEach((value, index) => {
        if (value.startsWith(GROUP_PREFIX)) {
          diagnostics.error(
            [...at, field, index],
            `groups name API users: \`${value}\` is only allowed in match.initiator, approvers.of and signers`,
          )
        }
      })
      return [field, written]
    }),
  )
}

/**
 * An exchange or fiat account is operated by one API user's credentials: a rule that can match such a
 * source may name at most one designated signer. A rule whose `match` does not constrain `source.type`
 * can match such a source too.
 */
export function checkExchangeSigners(
  match: Readonly<Record<string, readonly string[]>> | undefined,
  signers: readonly string[] | undefined,
  at: Path,
  diagnostics: Diagnostics,
): void {
  if (signers === undefined || signers.length <= 1) return
  const sourceTypes = match?.['source.type']
  const exchangeTypes = sourceTypes?.filter((type) => EXCHANGE_OR_FIAT.has(type))
  if (sourceTypes !== undefined && exchangeTypes!.length === 0) return
  const cause =
    sourceTypes === undefined
      ? 'its match does not constrain source.type, so its source can be an exchange or fiat account'
      : `its source can be ${exchangeTypes!.join(', ')}`
  diagnostics.error(
    [...at, 'signers'],
    `${cause}, which allows only one designated signer, but the rule names ${signers.length} (${signers.join(', ')}); name one signer, or match source.type to other account types`,
  )
}
