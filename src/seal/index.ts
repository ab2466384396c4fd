/**
 * Envelope encryption of records: one AES-256-GCM data key per store, each record bound to its table, id and
 * version, the data key wrapped by a key-encryption provider (a KEK file, a passphrase, or a PKCS#11 token)
 * that is called once at open. See docs/sealing.md.
 */
export { SEAL_ERRORS, SealError } from './errors.js'
export type { RecordRef, SealErrorCode } from './errors.js'
export type { KeyEncryptionProvider, ProviderKind } from './provider.js'
export { openFileProvider } from './file-provider.js'
export type { FileProviderOptions } from './file-provider.js'
export { openPassphraseProvider } from './passphrase-provider.js'
export type { PassphraseProviderOptions, ScryptCost } from './passphrase-provider.js'
export { createPkcs11Key, openPkcs11Provider } from './pkcs11-provider.js'
export type { Pkcs11Provider, WrapMechanism } from './pkcs11-provider.js'
export type { Pkcs11Options } from './pkcs11-token.js'
export { openSealer } from './sealer.js'
export type { OpenSealerOptions, Sealer } from './sealer.js'
