import { z } from 'zod'
import { Identifier } from './identifier.js'

/** The configuration-change request payload (`config_change_sign_request`, protocol.md §3). */

export const CONFIG_CHANGE_TYPES = [
  'UNMANAGED_WALLET',
  'EXCHANGE',
  'FIAT_ACCOUNT',
  'ADD_USER',
  'RE_ENROLL_DEVICE',
  'ENABLE_ONE_TIME_ADDRESS',
  'CHANGE_QUORUM_THRESHOLD',
  'ADD_NETWORK_CONNECTION',
  'SET_NETWORK_CONNECTION_ROUTING_POLICY',
  'SET_NETWORK_ID_POLICY',
  'UPDATE_APPROVAL_GROUP_MAPPING',
  'USERS_GROUP_APPROVAL',
  'POLICY_APPROVAL',
] as const
export type ConfigChangeType = (typeof CONFIG_CHANGE_TYPES)[number]

/** `AddressInfo`: whitelisting an internal, external or contract wallet address. */
export const AddressInfoSchema = z.looseObject({
  subType: z.string().optional(),
  walletName: z.string().optional(),
  // The older page typed walletId as an object; accept both.
  walletId: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  asset: z.string().optional(),
  address: z.string(),
  tag: z.string().optional(),
})

/** `ThirdPartyInfo`: an exchange or fiat account. `addresses` is a JSON string `{assetSymbol: address}`. */
export const ThirdPartyInfoSchema = z.looseObject({
  subType: z.string().optional(),
  accountName: z.string().optional(),
  accountId: z.string().optional(),
  apiKey: z.string().optional(),
  addresses: z.string().optional(),
})

export const AddNetworkConnectionInfoSchema = z.looseObject({
  networkConnectionId: z.string().optional(),
  note: z.string().optional(),
  localNetworkID: z.string().optional(),
  remoteTenantID: z.string().optional(),
  routingPolicy: z.string().optional(),
})

export const NetworkConnectionRoutingPolicyInfoSchema = z.looseObject({
  connectionId: z.string(),
  routingPolicy: z.string().optional(),
})

export const NetworkIdRoutingPolicyInfoSchema = z.looseObject({
  networkID: z.string(),
  routingPolicy: z.string().optional(),
})

/** Types whose `extraInfo` shape is undocumented accept any object. */
const UntypedInfoSchema = z.record(z.string(), z.unknown())

export const EXTRA_INFO_SCHEMAS: Record<ConfigChangeType, z.ZodType> = {
  UNMANAGED_WALLET: AddressInfoSchema,
  EXCHANGE: ThirdPartyInfoSchema,
  FIAT_ACCOUNT: ThirdPartyInfoSchema,
  ADD_USER: UntypedInfoSchema,
  RE_ENROLL_DEVICE: UntypedInfoSchema,
  ENABLE_ONE_TIME_ADDRESS: UntypedInfoSchema,
  CHANGE_QUORUM_THRESHOLD: UntypedInfoSchema,
  ADD_NETWORK_CONNECTION: AddNetworkConnectionInfoSchema,
  SET_NETWORK_CONNECTION_ROUTING_POLICY: NetworkConnectionRoutingPolicyInfoSchema,
  SET_NETWORK_ID_POLICY: NetworkIdRoutingPolicyInfoSchema,
  UPDATE_APPROVAL_GROUP_MAPPING: UntypedInfoSchema,
  USERS_GROUP_APPROVAL: UntypedInfoSchema,
  POLICY_APPROVAL: UntypedInfoSchema,
}

/**
 * An unknown `type` fails validation (and so is answered REJECT): a change the handler cannot read is not
 * one it may approve. `extraInfo` is checked against its type's schema and kept whole.
 */
export const ConfigChangeRequestSchema = z
  .looseObject({
    requestId: Identifier,
    type: z.enum(CONFIG_CHANGE_TYPES),
    extraInfo: z.record(z.string(), z.unknown()).optional(),
    signerId: Identifier.optional(),
  })
  .superRefine((request, ctx) => {
    if (request.extraInfo === undefined) return
    const result = EXTRA_INFO_SCHEMAS[request.type].safeParse(request.extraInfo)
    if (result.success) return
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', path: ['extraInfo', ...issue.path], message: issue.message })
    }
  })
export type ConfigChangeRequest = z.infer<typeof ConfigChangeRequestSchema>
