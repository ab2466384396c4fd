/** The options of key generation for either algorithm: a DKG, or a reshare from an existing set. */
export interface KeygenOptions<Share> {
  readonly self: string
  /** 32 random bytes agreed for this session; bound into every message. */
  readonly session: Uint8Array
  /** The new set's holders: [cloud1, cloud2, customer]. */
  readonly holders: readonly string[]
  /** Resharing (refresh = the same holders): the old set, this party's old share if it deals, the key to keep. */
  readonly reshare?: {
    readonly dealers: readonly string[]
    readonly share?: Share
    readonly expectedPublicKey?: string
  }
}
