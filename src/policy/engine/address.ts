/**
 * One spelling per address, so that lists, `match` values and comparisons cannot be bypassed by letter
 * case (`0xABC…` on a blocked list, `0xabc…` in the request). The format of an address names its chain
 * family, so normalisation needs no asset table:
 * - EVM hex addresses (`0x` + 40 hex digits) are case-insensitive (EIP-55 case is only a checksum):
 *   lower-cased;
 * - Bitcoin-family bech32/bech32m addresses are valid all upper-case or all lower-case: lower-cased;
 * - anything else (base58 chains such as Solana or Bitcoin legacy, where case is significant; vault ids,
 *   asset names) is left exactly as written.
 */
const EVM_HEX = /^0x[0-9a-f]{40}$/i
/** Human-readable parts of Bitcoin-family networks, then the separator `1` and the bech32 data alphabet. */
const BITCOIN_BECH32 = /^(bc|tb|bcrt|ltc|tltc)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,87}$/

export function normalizeAddress(text: string): string {
  if (EVM_HEX.test(text)) return text.toLowerCase()
  const lower = text.toLowerCase()
  // Mixed case is not a valid bech32 spelling: leave it as written (it then matches nothing).
  if ((text === lower || text === text.toUpperCase()) && BITCOIN_BECH32.test(lower)) return lower
  return text
}
