import type { Template } from 'pkcs11js'
import { SealError } from './errors.js'
import { takeBytes } from './key-wrap.js'
import { ckrName, failure, pkcs11Call } from './pkcs11-library.js'
import type { Pkcs11Library } from './pkcs11-library.js'
import { aesKeyLabels, findAesKeys, openTokenSession } from './pkcs11-token.js'
import type { Pkcs11Options, TokenSession } from './pkcs11-token.js'
import type { KeyEncryptionProvider } from './provider.js'

/** The two wrap mechanisms, by the tag byte that starts a wrapped key (so unwrap uses the one that wrapped). */
const MECHANISMS = {
  1: 'CKM_AES_KEY_WRAP_PAD',
  2: 'CKM_AES_KEY_WRAP',
} as const
type MechanismTag = keyof typeof MECHANISMS
export type WrapMechanism = (typeof MECHANISMS)[MechanismTag]

export interface Pkcs11Provider extends KeyEncryptionProvider {
  readonly kind: 'pkcs11'
  /**
   * The mechanism new wraps use: CKM_AES_KEY_WRAP_PAD (RFC 5649), or CKM_AES_KEY_WRAP (RFC 3394) on a token
   * that lacks it — a 32-byte data key is a multiple of 8 bytes, so nothing is lost; the CLI says so.
   */
  readonly mechanism: WrapMechanism
}

/** Errors of C_UnwrapKey that mean "not wrapped by this key" (SoftHSM2 answers CKR_GENERAL_ERROR). */
const NOT_THIS_KEY = new Set([
  'CKR_WRAPPED_KEY_INVALID',
  'CKR_WRAPPED_KEY_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_GENERAL_ERROR',
  'CKR_FUNCTION_FAILED',
])

/**
 * The KEK is an AES-256 key that never leaves a PKCS#11 token (an HSM, or SoftHSM2 in CI): the data key goes
 * to the token as a session object and comes back wrapped, and the reverse at unwrap. The session stays open
 * until `close()`, which also finalizes the library if this was its last user.
 */
export async function openPkcs11Provider(options: Pkcs11Options): Promise<Pkcs11Provider> {
  const token = await openTokenSession(options, { readWrite: false })
  try {
    const kek = findKek(token, options)
    const mechanism = chooseMechanism(token)
    return pkcs11Provider(token, kek, mechanism, keyIdOf(options))
  } catch (error) {
    closeToken(token)
    throw error
  }
}

/**
 * Creates the KEK on the token: AES-256, generated inside it (C_GenerateKey), stored (CKA_TOKEN), never
 * extractable nor readable (CKA_SENSITIVE), able only to wrap and unwrap. Refuses a label some AES key has.
 */
export async function createPkcs11Key(options: Pkcs11Options): Promise<void> {
  const token = await openTokenSession(options, { readWrite: true })
  try {
    if (findAesKeys(token, options.keyLabel).length > 0)
      throw new SealError(
        'CS_SEAL_PKCS11_KEY_EXISTS',
        `token ${JSON.stringify(options.tokenLabel)} already holds an AES key labelled ${JSON.stringify(options.keyLabel)}: use it, or choose another label`,
      )
    const { pkcs11, ck } = token.library
    const template: Template = [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
      { type: ck.CKA_VALUE_LEN, value: 32 },
      { type: ck.CKA_LABEL, value: options.keyLabel },
      { type: ck.CKA_TOKEN, value: true },
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_SENSITIVE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: false },
      { type: ck.CKA_WRAP, value: true },
      { type: ck.CKA_UNWRAP, value: true },
      { type: ck.CKA_ENCRYPT, value: false },
      { type: ck.CKA_DECRYPT, value: false },
    ]
    pkcs11Call('C_GenerateKey', () =>
      pkcs11.C_GenerateKey(token.session, { mechanism: ck.CKM_AES_KEY_GEN }, template),
    )
  } finally {
    closeToken(token)
  }
}

/** An RFC 7512 PKCS#11 URI naming the token and the key: which KEK, without any secret. */
function keyIdOf(options: Pkcs11Options): string {
  return `pkcs11:token=${encodeURIComponent(options.tokenLabel)};object=${encodeURIComponent(options.keyLabel)}`
}

function findKek(token: TokenSession, options: Pkcs11Options): Buffer {
  const keys = findAesKeys(token, options.keyLabel)
  const [kek] = keys
  const where = `token ${JSON.stringify(options.tokenLabel)}`
  if (kek === undefined)
    throw new SealError(
      'CS_SEAL_PKCS11_KEY_NOT_FOUND',
      `${where} holds no AES key labelled ${JSON.stringify(options.keyLabel)} (AES keys found: ${aesKeyLabels(token).join(', ') || 'none'}): ` +
        'create it once with createPkcs11Key (docs/sealing.md), or give the label of the existing key',
    )
  if (keys.length > 1)
    throw new SealError(
      'CS_SEAL_PKCS11_KEY_EXISTS',
      `${where} holds ${keys.length} AES keys labelled ${JSON.stringify(options.keyLabel)}: a label must name one key; relabel or delete the others`,
    )
  return kek
}

function offers({ pkcs11, ck }: Pkcs11Library, slot: Buffer, mechanism: WrapMechanism): boolean {
  const type = ck[mechanism]
  if (!pkcs11Call('C_GetMechanismList', () => pkcs11.C_GetMechanismList(slot)).includes(type)) return false
  const { flags } = pkcs11Call('C_GetMechanismInfo', () => pkcs11.C_GetMechanismInfo(slot, type))
  const both = ck.CKF_WRAP | ck.CKF_UNWRAP
  return (flags & both) === both
}

function chooseMechanism(token: TokenSession): WrapMechanism {
  for (const mechanism of Object.values(MECHANISMS))
    if (offers(token.library, token.slot, mechanism)) return mechanism
  throw new SealError(
    'CS_SEAL_PKCS11_FAILED',
    'the token offers neither CKM_AES_KEY_WRAP_PAD nor CKM_AES_KEY_WRAP for wrapping and unwrapping: use a token that does',
  )
}

function tagOf(mechanism: WrapMechanism): MechanismTag {
  return mechanism === 'CKM_AES_KEY_WRAP_PAD' ? 1 : 2
}

function closeToken(token: TokenSession): void {
  try {
    token.close()
  } finally {
    token.library.release()
  }
}

function pkcs11Provider(
  token: TokenSession,
  kek: Buffer,
  mechanism: WrapMechanism,
  keyId: string,
): Pkcs11Provider {
  let closed = false
  const live = (): TokenSession => {
    if (closed) throw new SealError('CS_SEAL_CLOSED', `the PKCS#11 KEK provider ${keyId} is closed`)
    return token
  }
  return {
    kind: 'pkcs11',
    keyId,
    mechanism,
    wrap: async (dataKey) => {
      const wrapped = wrapOnToken(live(), kek, mechanism, dataKey)
      return new Uint8Array([tagOf(mechanism), ...wrapped])
    },
    unwrap: async (wrapped) => {
      const used = MECHANISMS[wrapped[0] as MechanismTag] as WrapMechanism | undefined
      if (used === undefined)
        throw new SealError(
          'CS_SEAL_KEYRING_INVALID',
          'the PKCS#11-wrapped data key names no known mechanism: the keyring was altered',
        )
      return unwrapOnToken(live(), kek, used, wrapped.subarray(1), keyId)
    },
    close: async () => {
      if (closed) return
      closed = true
      closeToken(token)
    },
  }
}

/** The data key enters the token as a short-lived session object (extractable, so that it can be wrapped). */
function wrapOnToken(
  token: TokenSession,
  kek: Buffer,
  mechanism: WrapMechanism,
  dataKey: Uint8Array,
): Buffer {
  const { pkcs11, ck } = token.library
  const value = Buffer.from(dataKey)
  const object = pkcs11Call('C_CreateObject', () =>
    pkcs11.C_CreateObject(token.session, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
      { type: ck.CKA_TOKEN, value: false },
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: true },
      { type: ck.CKA_VALUE, value },
    ]),
  )
  value.fill(0)
  try {
    const output = Buffer.alloc(dataKey.length + 16)
    return Buffer.from(
      pkcs11Call('C_WrapKey', () =>
        pkcs11.C_WrapKey(token.session, { mechanism: ck[mechanism] }, kek, object, output),
      ),
    )
  } finally {
    pkcs11Call('C_DestroyObject', () => pkcs11.C_DestroyObject(token.session, object))
  }
}

/** The data key comes out of the token once, as a session object read and destroyed at once. */
function unwrapOnToken(
  token: TokenSession,
  kek: Buffer,
  mechanism: WrapMechanism,
  wrapped: Uint8Array,
  keyId: string,
): Uint8Array {
  const { pkcs11, ck } = token.library
  let object: Buffer
  try {
    object = pkcs11.C_UnwrapKey(token.session, { mechanism: ck[mechanism] }, kek, Buffer.from(wrapped), [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
      { type: ck.CKA_TOKEN, value: false },
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_SENSITIVE, value: false },
      { type: ck.CKA_EXTRACTABLE, value: true },
    ])
  } catch (error) {
    const reason = ckrName(error)
    if (reason !== undefined && NOT_THIS_KEY.has(reason))
      throw new SealError(
        'CS_SEAL_WRONG_KEK',
        `the PKCS#11 key ${keyId} does not unwrap this data key (${mechanism}: ${reason}): another key wrapped it, or the wrapped key was altered`,
      )
    throw failure('C_UnwrapKey', error)
  }
  try {
    const [value] = pkcs11Call('C_GetAttributeValue', () =>
      pkcs11.C_GetAttributeValue(token.session, object, [{ type: ck.CKA_VALUE }]),
    )
    if (value === undefined) throw failure('C_GetAttributeValue', new Error('no CKA_VALUE returned'))
    return takeBytes([value.value])
  } finally {
    pkcs11Call('C_DestroyObject', () => pkcs11.C_DestroyObject(token.session, object))
  }
}
