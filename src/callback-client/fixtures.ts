import { randomUUID } from 'node:crypto'
import { CONFIG_CHANGE_TYPES, type CallbackRoute, type ConfigChangeType } from '../protocol/index.js'
import { p2pkhAddress, unsignedBtcTransfer } from './btc-transaction.js'
import { CallbackInputInvalid } from './errors.js'
import { unsignedEthTransfer } from './eth-transaction.js'

/**
 * Realistic callback payloads for the simulator and the conformance suite, shaped on protocol.md §2–3.
 * Every build gets a fresh `requestId` (and `txId`, equal to it as in real traffic) unless one is given,
 * so running the simulator twice sends two requests, not a retry.
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

const PLAYERS = [
  '21926ecc-4a8a-4614-bbac-7c591aa7efdd',
  '27900737-46f6-4097-a169-d0ff45649ed5',
  'f89cac50-c656-4e74-879f-041aff8d01b5',
]
const DEFAULT_SIGNER_ID = '3f2c1d4e-5b6a-4c8d-9e0f-1a2b3c4d5e6f'
const TREASURY_ETH = '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8'
const PAYROLL_USDC = '0x8ba1f109551bD432803012645Ac136ddd64DBA72'
const BTC_SOURCE_HASH160 = '759d6677091e973b9e9d99f19c68fbf43e3f05f9'
const BTC_DEST_HASH160 = '76a04053bda0a88bda5177b86a15c3b29f559873'

/** The rule Fireblocks reports as having matched, a JSON-encoded string as on the wire. */
const CAPTURED_RULE = JSON.stringify({
  type: 'TRANSFER',
  transactionType: 'TRANSFER',
  asset: '*',
  amount: '0',
  operators: { wildcard: '*' },
  applyForApprove: true,
  action: 'ALLOW',
  src: { ids: [['*']] },
  dst: { ids: [['*']] },
  dstAddressType: '*',
  amountCurrency: 'USD',
  amountScope: 'SINGLE_TX',
  periodSec: 0,
})

interface TransferShape {
  readonly asset: string
  readonly amount: string
  readonly amountUsd: number
  readonly sourceType: string
  readonly sourceId: string
  readonly note?: string
}

function destination(
  dstType: string,
  dstId: string,
  dstAddressType: string,
  amount: string,
  amountUsd: number,
  extra: Payload = {},
): Payload {
  return {
    amountNative: Number(amount),
    amountNativeStr: amount,
    amountUSD: amountUsd,
    dstAddressType,
    dstId,
    dstType,
    dstSubType: '',
    action: 'ALLOW',
    actionInfo: {
      capturedRuleNum: 5,
      rulesSnapshotId: 8164,
      byGlobalPolicy: false,
      byRule: true,
      capturedRule: CAPTURED_RULE,
    },
    ...extra,
  }
}

/** The approval-stage transaction shared by every transfer fixture; signing fields are added on top. */
function transfer(shape: TransferShape, destinations: readonly Payload[], options: FixtureOptions): Payload {
  const requestId = options.requestId ?? randomUUID()
  const first = destinations[0]!
  return {
    txId: requestId,
    operation: 'TRANSFER',
    sourceType: shape.sourceType,
    sourceId: shape.sourceId,
    destType: first.dstType,
    destId: first.dstId,
    asset: shape.asset,
    amount: Number(shape.amount),
    amountStr: shape.amount,
    requestedAmount: Number(shape.amount),
    requestedAmountStr: shape.amount,
    destAddressType: first.dstAddressType,
    destAddress: first.dstAddress,
    destinations,
    players: PLAYERS,
    signerId: options.signerId ?? DEFAULT_SIGNER_ID,
    ...(shape.note === undefined ? {} : { note: shape.note }),
    requestId,
  }
}

function ethTransferApproval(options: FixtureOptions): Payload {
  const shape = ethShape()
  return transfer(shape, [ethDestination(shape)], options)
}

function ethShape(): TransferShape {
  return {
    asset: 'ETH',
    amount: '1.25',
    amountUsd: 4187.5,
    sourceType: 'VAULT',
    sourceId: '0',
    note: 'weekly rebalance',
  }
}

function ethDestination(shape: TransferShape, extra: Payload = {}): Payload {
  return destination('VAULT', '1', 'WHITELISTED', shape.amount, shape.amountUsd, {
    dstWalletId: '',
    dstName: 'Treasury Cold',
    dstAddress: TREASURY_ETH,
    ...extra,
  })
}

/** Signing stage: `fee`, `displayDstAddress` and a real unsigned EIP-1559 `rawTx` with its keccak-256. */
function ethTransferSigning(options: FixtureOptions): Payload {
  const shape = ethShape()
  const eth = unsignedEthTransfer(TREASURY_ETH, shape.amount, 4)
  return {
    ...transfer(shape, [ethDestination(shape, { displayDstAddress: TREASURY_ETH })], options),
    fee: eth.fee,
    rawTx: [{ keyDerivationPath: '[ 44, 60, 0, 0, 0 ]', rawTx: eth.rawTx, payload: eth.payload }],
  }
}

/** Signing stage of a BTC payout to a one-time address, spending two legacy inputs. */
function btcTransfer(options: FixtureOptions): Payload {
  const address = p2pkhAddress(BTC_DEST_HASH160)
  const shape: TransferShape = {
    asset: 'BTC',
    amount: '0.0845',
    amountUsd: 7943,
    sourceType: 'VAULT',
    sourceId: '11',
  }
  const btc = unsignedBtcTransfer(
    [
      {
        txid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
        vout: 0,
        ownerHash160: BTC_SOURCE_HASH160,
      },
      {
        txid: '0b1c2d3e4f5061728394a5b6c7d8e9f00b1c2d3e4f5061728394a5b6c7d8e9f0',
        vout: 1,
        ownerHash160: BTC_SOURCE_HASH160,
      },
    ],
    [
      { hash160: BTC_DEST_HASH160, sats: 8_450_000n },
      { hash160: BTC_SOURCE_HASH160, sats: 10_000n },
    ],
  )
  const dst = destination('ONE_TIME_ADDRESS', '', 'ONE_TIME', shape.amount, shape.amountUsd, {
    dstName: address,
    dstAddress: address,
    displayDstAddress: address,
  })
  return {
    ...transfer(shape, [dst], options),
    destAddressType: 'ONE_TIME',
    externalTxId: `payout-${randomUUID().slice(0, 8)}`,
    fee: '0.00004210',
    rawTx: btc.rawTx.map((entry) => ({ keyDerivationPath: '[ 44, 0, 0, 0, 0 ]', ...entry })),
  }
}

/**
 * A USDC payroll batch to `count` whitelisted external wallets (10,000 USDC each); the conformance suite
 * sends it with 50 destinations.
 */
export function multiDestinationPayload(count: number, options: FixtureOptions = {}): Payload {
  const destinations = Array.from({ length: count }, (_, index) => {
    const walletId = randomUUID()
    return destination('UNMANAGED', walletId, 'WHITELISTED', '10000', 9998.7, {
      dstWalletId: walletId,
      dstName: `Payee ${index + 1}`,
      dstSubType: 'EXTERNAL',
      dstAddress: `0x${(index + 1).toString(16).padStart(40, '0')}`,
    })
  })
  const total = String(10_000 * count)
  return transfer(
    {
      asset: 'USDC',
      amount: total,
      amountUsd: 9998.7 * count,
      sourceType: 'VAULT',
      sourceId: '3',
      note: 'November payroll batch',
    },
    destinations,
    options,
  )
}

function exchangeSource(options: FixtureOptions): Payload {
  const dst = destination('VAULT', '2', 'WHITELISTED', '250000', 249875, {
    dstName: 'Hot Wallet',
    dstAddress: '0x1E0049783F008A0085193E00003D00cd54003c71',
  })
  return transfer(
    {
      asset: 'USDT_ERC20',
      amount: '250000',
      amountUsd: 249875,
      sourceType: 'EXCHANGE',
      sourceId: '5b0f6c3a-2d1e-4f7a-9b8c-3e2d1f0a9b8c',
    },
    [dst],
    options,
  )
}

/** `extraInfo` per configuration-change type (protocol.md §3; undocumented shapes are plausible samples). */
const CONFIG_EXTRA_INFO: Record<ConfigChangeType, Payload> = {
  UNMANAGED_WALLET: {
    subType: 'EXTERNAL',
    walletName: 'Payroll Provider',
    walletId: '7d3c1a2b-9e8f-4a5b-8c7d-6e5f4a3b2c1d',
    asset: 'USDC',
    address: PAYROLL_USDC,
    tag: '',
  },
  EXCHANGE: {
    subType: 'BINANCE',
    accountName: 'Binance main',
    accountId: '5b0f6c3a-2d1e-4f7a-9b8c-3e2d1f0a9b8c',
    apiKey: 'exchange-api-key-placeholder',
    addresses: JSON.stringify({ BTC: 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh' }),
  },
  FIAT_ACCOUNT: {
    subType: 'SIGNET',
    accountName: 'Signet settlement',
    accountId: 'a7b6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d',
  },
  ADD_USER: { name: 'Dana Ops', email: 'dana@example.com', role: 'SIGNER' },
  RE_ENROLL_DEVICE: { userId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' },
  ENABLE_ONE_TIME_ADDRESS: {},
  CHANGE_QUORUM_THRESHOLD: { threshold: 3 },
  ADD_NETWORK_CONNECTION: {
    networkConnectionId: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b',
    note: 'OTC desk',
    localNetworkID: 'acme-treasury',
    remoteTenantID: 'c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f',
    routingPolicy: JSON.stringify({ crypto: { scheme: 'DEFAULT' } }),
  },
  SET_NETWORK_CONNECTION_ROUTING_POLICY: {
    connectionId: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b',
    routingPolicy: JSON.stringify({ crypto: { scheme: 'CUSTOM', dstType: 'VAULT', dstId: '2' } }),
  },
  SET_NETWORK_ID_POLICY: {
    networkID: 'acme-treasury',
    routingPolicy: JSON.stringify({ crypto: { scheme: 'DEFAULT' } }),
  },
  UPDATE_APPROVAL_GROUP_MAPPING: { operation: 'ADD_USER', groupIds: ['admins'] },
  USERS_GROUP_APPROVAL: { groupName: 'treasury-approvers', members: ['alice', 'bob', 'carol'] },
  POLICY_APPROVAL: { policyType: 'TRANSFER', rulesCount: 12 },
}

export function configChangePayload(type: ConfigChangeType, options: FixtureOptions = {}): Payload {
  return {
    requestId: options.requestId ?? randomUUID(),
    type,
    extraInfo: structuredClone(CONFIG_EXTRA_INFO[type]),
    signerId: options.signerId ?? DEFAULT_SIGNER_ID,
  }
}

/** `UNMANAGED_WALLET` → `unmanaged-wallet`. */
export function configFixtureName(type: ConfigChangeType): string {
  return type.toLowerCase().replaceAll('_', '-')
}

type Builder = (options: FixtureOptions) => BuiltFixture

const BUILDERS: ReadonlyMap<string, Builder> = new Map<string, Builder>([
  ['eth-transfer', (options) => ({ route: 'tx', payload: ethTransferSigning(options) })],
  ['eth-transfer-approval', (options) => ({ route: 'tx', payload: ethTransferApproval(options) })],
  ['btc-transfer', (options) => ({ route: 'tx', payload: btcTransfer(options) })],
  ['multi-destination', (options) => ({ route: 'tx', payload: multiDestinationPayload(3, options) })],
  ['exchange-source', (options) => ({ route: 'tx', payload: exchangeSource(options) })],
  ...CONFIG_CHANGE_TYPES.map((type): [string, Builder] => [
    configFixtureName(type),
    (options) => ({ route: 'config', payload: configChangePayload(type, options) }),
  ]),
])

export const FIXTURE_NAMES: readonly string[] = [...BUILDERS.keys()]

export function buildFixture(name: string, options: FixtureOptions = {}): BuiltFixture {
  const builder = BUILDERS.get(name)
  if (builder === undefined) {
    throw new CallbackInputInvalid(`unknown fixture "${name}"; choose one of: ${FIXTURE_NAMES.join(', ')}`)
  }
  return builder(options)
}
