import { z } from 'zod'
import { ACTIONS, type Action } from './actions.js'

/** The handler's answer (protocol.md §4). Claim names are case-sensitive and lower-camel. */
export const CallbackResponseSchema = z.strictObject({
  action: z.enum(ACTIONS as [Action, ...Action[]]),
  requestId: z.string().min(1),
  rejectionReason: z.string().optional(),
})
export type CallbackResponse = z.infer<typeof CallbackResponseSchema>

/** The response claims inside a JWT: the object above plus the `iat` the co-signer ignores. */
export const CallbackResponseClaimsSchema = CallbackResponseSchema.extend({
  iat: z.number().int().optional(),
})
