import { randomUUID } from 'node:crypto'
import type { CallbackRoute, ConfigChangeType } from '../protocol/index.js'
import { CallbackInputInvalid } from '../callback-client/index.js'
import { CONFIG_FIXTURES, TX_FIXTURES, loadConfigFixture, loadTxFixture } from './corpus.js'

/**
 * Requests built from the fixture corpus for the simulator and the conformance suite. Every build gets a
 * fresh `requestId` (and `txId`, equal to it as in real traffic) unless one is given, so running the
 * simulator twice sends two requests, not a retry.
 */
export interface FixtureOptions {
  readonly requestId?: string
  readonly signerId?: string
}

export interface BuiltFixture {
  readonly route: CallbackRoute
  readonly payload: Record<string, unknown>
}

type Payload = Record<string, unknown>

/** A fresh identity for a stored payload: `requestId` (and `txId` on a transaction) and `signerId`. */
export function withFreshIds(route: CallbackRoute, payload: Payload, options: FixtureOptions = {}): Payload {
  const requestId = options.requestId ?? randomUUID()
  return {
    ...payload,
    ...(route === 'tx' ? { txId: requestId } : {}),
    requestId,
    ...(options.signerId === undefined ? {} : { signerId: options.signerId }),
  }
}

/** `UNMANAGED_WALLET` → `unmanaged-wallet`, the corpus's name for that config-change type. */
export function configFixtureName(type: ConfigChangeType): string {
  return type.toLowerCase().replaceAll('_', '-')
}

export function configChangePayload(type: ConfigChangeType, options: FixtureOptions = {}): Payload {
  return withFreshIds('config', loadConfigFixture(configFixtureName(type)), options)
}

/**
 * The corpus's USDC payroll batch with `count` whitelisted external payees of 10,000 USDC each, the first
 * destination repeated with distinct wallets and addresses; the conformance suite sends 50.
 */
export function multiDestinationPayload(count: number, options: FixtureOptions = {}): Payload {
  const batch = loadTxFixture('multi-destination')
  const template = (batch.destinations as Payload[])[0]!
  const destinations = Array.from({ length: count }, (_, index) => {
    const walletId = randomUUID()
    return {
      ...template,
      amountNative: 10_000,
      amountNativeStr: '10000',
      dstId: walletId,
      dstWalletId: walletId,
      dstName: `Payee ${index + 1}`,
      dstAddress: `0x${(index + 1).toString(16).padStart(40, '0')}`,
    }
  })
  const first = destinations[0]!
  const total = 10_000 * count
  return withFreshIds(
    'tx',
    {
      ...batch,
      destId: first.dstId,
      destAddress: first.dstAddress,
      amount: total,
      amountStr: String(total),
      requestedAmount: total,
      requestedAmountStr: String(total),
      destinations,
    },
    options,
  )
}

/** Every fixture a request can be built from: the transactions first, then the config changes. */
export const FIXTURE_NAMES: readonly string[] = [...TX_FIXTURES, ...CONFIG_FIXTURES]

export function buildFixture(name: string, options: FixtureOptions = {}): BuiltFixture {
  const route: CallbackRoute | undefined = TX_FIXTURES.includes(name)
    ? 'tx'
    : CONFIG_FIXTURES.includes(name)
      ? 'config'
      : undefined
  if (route === undefined) {
    throw new CallbackInputInvalid(`unknown fixture "${name}"; choose one of: ${FIXTURE_NAMES.join(', ')}`)
  }
  const stored = route === 'tx' ? loadTxFixture(name) : loadConfigFixture(name)
  return { route, payload: withFreshIds(route, stored, options) }
}
