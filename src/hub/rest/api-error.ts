import type { output, ZodType } from 'zod'
import { formatZodIssues } from '../../core/index.js'

/**
 * An answer of the Fireblocks-compatible API that is not a success: always `{ message, code }` at the top
 * level (hub-api.md §1.5), because the SDKs surface `data.message` as the error's message and nothing else.
 */
export class HubApiError extends Error {
  readonly statusCode: number
  readonly apiCode: number

  constructor(statusCode: number, apiCode: number, message: string) {
    super(message)
    this.name = 'HubApiError'
    this.statusCode = statusCode
    this.apiCode = apiCode
  }

  get body(): { message: string; code: number } {
    return { message: this.message, code: this.apiCode }
  }
}

/** Codes of the Fireblocks error table (hub-api.md §2.5) and the hub's own for what that table leaves out. */
export const API_CODES = {
  vaultsInvalid: 1000,
  vaultCreateFailed: 1002,
  vaultNotFound: 1004,
  assetNotFound: 1006,
  /** Hub codes (not in Fireblocks' public table): 14xx. */
  validation: 1400,
  notFound: 1404,
  conflict: 1409,
  /** An unexpected fault of the hub (the co-signer link's codes are 1500–1513). */
  internal: 1599,
} as const

/** Parses `value` with `schema`, or refuses with 400 naming every problem (`what`: which input). */
export function parseInput<T extends ZodType>(
  schema: T,
  value: unknown,
  what: string,
  code: number = API_CODES.validation,
): output<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw new HubApiError(400, code, `${what}: ${formatZodIssues(result.error).join('; ')}`)
}
