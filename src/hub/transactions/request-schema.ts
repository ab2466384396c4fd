import { z } from 'zod'

/**
 * `POST /v1/transactions` (hub-api.md §5.1): every field is optional in the SDK's type, so validation is
 * ours. Unknown fields are kept (the SDK's model grows); what the hub acts on is strict. Supported
 * operations: TRANSFER (from a vault account to a one-time address or another vault account) and RAW.
 */
export const SUPPORTED_OPERATIONS = ['TRANSFER', 'RAW'] as const
export const MAX_RAW_MESSAGES = 127

const NumericId = z.string().regex(/^\d+$/, 'a vault account id is a numeric string such as "0"')

const Amount = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .refine((value) => /^\d+(\.\d+)?$/.test(value) && !/^0+(\.0+)?$/.test(value), {
    message: 'amount must be a positive decimal string such as "0.001"',
  })

export const SourceSchema = z.looseObject({
  type: z.literal('VAULT_ACCOUNT', { message: 'the source must be {type: "VAULT_ACCOUNT", id}' }),
  id: NumericId,
})

export const DestinationSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('ONE_TIME_ADDRESS'),
    oneTimeAddress: z.looseObject({
      address: z.string().min(1).max(200),
      tag: z.string().max(100).optional(),
    }),
  }),
  z.looseObject({ type: z.literal('VAULT_ACCOUNT'), id: NumericId }),
])

const PathIndex = z.int().min(0).max(0x7fffffff)

export const RawMessageSchema = z.looseObject({
  content: z
    .string()
    .transform((value) => value.replace(/^0x/i, '').toLowerCase())
    .refine((value) => /^(?:[0-9a-f]{2})+$/.test(value), { message: 'content must be hex bytes' }),
  derivationPath: z.array(PathIndex).length(5).optional(),
  bip44addressIndex: PathIndex.optional(),
  bip44AddressIndex: PathIndex.optional(),
  bip44change: PathIndex.optional(),
})

const RawMessageDataSchema = z.looseObject({
  algorithm: z.enum(['MPC_ECDSA_SECP256K1', 'MPC_EDDSA_ED25519']).optional(),
  messages: z.array(RawMessageSchema).min(1).max(MAX_RAW_MESSAGES),
})

const Common = {
  note: z.string().max(1000).optional(),
  externalTxId: z.string().min(1).max(255).optional(),
  assetId: z.string().min(1).max(64),
  source: SourceSchema,
  customerRefId: z.string().max(255).optional(),
}

export const TransferRequestSchema = z.looseObject({
  ...Common,
  operation: z.literal('TRANSFER').default('TRANSFER'),
  destination: DestinationSchema,
  amount: Amount,
})

export const RawRequestSchema = z.looseObject({
  ...Common,
  operation: z.literal('RAW'),
  extraParameters: z.looseObject({ rawMessageData: RawMessageDataSchema }),
})

export const CreateTransactionSchema = z.union([RawRequestSchema, TransferRequestSchema])

export type TransferRequest = z.infer<typeof TransferRequestSchema>
export type RawRequest = z.infer<typeof RawRequestSchema>
export type CreateTransaction = z.infer<typeof CreateTransactionSchema>
export type RawMessage = z.infer<typeof RawMessageSchema>
export type Destination = z.infer<typeof DestinationSchema>
