/** The three places a key-encryption key (KEK) can live. */
export type ProviderKind = 'file' | 'passphrase' | 'pkcs11'

/**
 * Holds a key-encryption key and wraps the keyring's data key with it. A sealer calls `unwrap` once when it
 * opens (and `wrap` once when it creates or rewraps a keyring), never per record, so the provider may be
 * closed as soon as `openSealer` resolves.
 */
export interface KeyEncryptionProvider {
  readonly kind: ProviderKind
  /**
   * Which KEK this is, stable across runs and safe to show and store (no secret): a fingerprint of a KEK
   * file, the KDF of a passphrase, or the token and key labels of a PKCS#11 key.
   */
  readonly keyId: string
  /** Wraps a data key; the result is self-describing (it carries the parameters `unwrap` needs). */
  wrap(dataKey: Uint8Array): Promise<Uint8Array>
  /** Unwraps what `wrap` returned; fails with CS_SEAL_WRONG_KEK if this KEK did not wrap it. */
  unwrap(wrapped: Uint8Array): Promise<Uint8Array>
  /** Forgets the KEK (zeroes it, or ends the PKCS#11 session and finalizes the library). */
  close(): Promise<void>
}
