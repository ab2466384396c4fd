import { MpcError } from './errors.js'

/**
 * A key set is always 3-of-3 over {cloud1, cloud2, one customer co-signer}: a single t-of-n sharing over all
 * co-signers would let one cloud and two customers sign without the other cloud. Party index = position + 1.
 */
export const CLOUD1 = 'cloud1'
export const CLOUD2 = 'cloud2'
export const THRESHOLD = 3

export type Holders = readonly [typeof CLOUD1, typeof CLOUD2, string]

export function holdersOf(customer: string): Holders {
  if (customer === CLOUD1 || customer === CLOUD2 || customer.length === 0)
    throw new MpcError('CS_MPC_TOPOLOGY', `the customer co-signer must be a third party, not "${customer}"`)
  return [CLOUD1, CLOUD2, customer]
}

/** Refuses anything but exactly three distinct holders shaped {cloud1, cloud2, customer}, threshold 3. */
export function assertThreeOfThree(holders: readonly string[], threshold: number = THRESHOLD): Holders {
  if (!Number.isInteger(threshold) || threshold < 2)
    throw new MpcError(
      'CS_MPC_TOPOLOGY',
      `threshold ${threshold} refused: below 2 every party holds the whole key`,
    )
  if (threshold !== THRESHOLD || holders.length !== THRESHOLD)
    throw new MpcError(
      'CS_MPC_TOPOLOGY',
      `only 3-of-3 sets are allowed, got ${threshold}-of-${holders.length}`,
    )
  const [a, b, c] = holders
  if (a !== CLOUD1 || b !== CLOUD2 || c === undefined)
    throw new MpcError(
      'CS_MPC_TOPOLOGY',
      `holders must be [cloud1, cloud2, customer], got [${holders.join(', ')}]`,
    )
  return holdersOf(c)
}

export function partyIndex(holders: Holders, name: string): number {
  const index = holders.indexOf(name)
  if (index < 0) throw new MpcError('CS_MPC_TOPOLOGY', `${name} is not a holder of this set`)
  return index + 1
}
