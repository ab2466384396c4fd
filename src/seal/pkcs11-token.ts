import type { Template } from 'pkcs11js'
import { SealError } from './errors.js'
import { acquireLibrary, ckrName, failure, pkcs11Call } from './pkcs11-library.js'
import type { Pkcs11Library } from './pkcs11-library.js'

/** Where the KEK lives on a PKCS#11 token. */
export interface Pkcs11Options {
  /** The module library, e.g. /usr/lib/softhsm/libsofthsm2.so for SoftHSM2 on Debian. */
  readonly library: string
  /** The token's label. Tokens are found by label, never by slot number: slot ids change (SoftHSM2 reassigns them). */
  readonly tokenLabel: string
  /** The user PIN, from the caller; never logged, never stored. */
  readonly pin: string
  /** CKA_LABEL of the AES key that wraps the data key. */
  readonly keyLabel: string
}

/** A logged-in session on the token named by its label. */
export interface TokenSession {
  readonly library: Pkcs11Library
  readonly slot: Buffer
  readonly session: Buffer
  close(): void
}

const PIN_REFUSALS = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_INVALID',
  'CKR_PIN_LEN_RANGE',
  'CKR_PIN_EXPIRED',
  'CKR_PIN_LOCKED',
])

export async function openTokenSession(
  options: Pkcs11Options,
  access: { readonly readWrite: boolean },
): Promise<TokenSession> {
  const library = await acquireLibrary(options.library)
  try {
    const slot = findSlot(library, options.tokenLabel)
    const { pkcs11, ck } = library
    const flags = ck.CKF_SERIAL_SESSION | (access.readWrite ? ck.CKF_RW_SESSION : 0)
    const session = pkcs11Call('C_OpenSession', () => pkcs11.C_OpenSession(slot, flags))
    try {
      login(library, session, options.tokenLabel, options.pin)
    } catch (error) {
      closeQuietly(library, session)
      throw error
    }
    // Closing the application's last session on a token also logs it out: no C_Logout that would end the
    // login of another provider on the same token.
    return {
      library,
      slot,
      session,
      close: () => pkcs11Call('C_CloseSession', () => pkcs11.C_CloseSession(session)),
    }
  } catch (error) {
    library.release()
    throw error
  }
}

/** Closes a session on a path that already fails: the first error is the one to report. */
function closeQuietly({ pkcs11 }: Pkcs11Library, session: Buffer): void {
  try {
    pkcs11.C_CloseSession(session)
  } catch {
    // already failing
  }
}

function findSlot({ pkcs11, ck }: Pkcs11Library, tokenLabel: string): Buffer {
  const labels: string[] = []
  for (const slot of pkcs11Call('C_GetSlotList', () => pkcs11.C_GetSlotList(true))) {
    const token = pkcs11Call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot))
    if ((token.flags & ck.CKF_TOKEN_INITIALIZED) === 0) continue
    const label = token.label.trimEnd() // labels are padded with blanks to 32 bytes
    if (label === tokenLabel) return slot
    labels.push(JSON.stringify(label))
  }
  throw new SealError(
    'CS_SEAL_PKCS11_TOKEN_NOT_FOUND',
    `no initialised token is labelled ${JSON.stringify(tokenLabel)}; tokens found: ${labels.join(', ') || 'none'}` +
      ' (initialise one with softhsm2-util --init-token --free --label LABEL, or fix the label)',
  )
}

function login({ pkcs11, ck }: Pkcs11Library, session: Buffer, tokenLabel: string, pin: string): void {
  try {
    pkcs11.C_Login(session, ck.CKU_USER, pin)
  } catch (error) {
    const reason = ckrName(error)
    if (reason === 'CKR_USER_ALREADY_LOGGED_IN') return // another session of this process logged in
    if (reason !== undefined && PIN_REFUSALS.has(reason))
      throw new SealError(
        'CS_SEAL_PKCS11_PIN',
        `token ${JSON.stringify(tokenLabel)} refused the user PIN (${reason}): give the right user PIN; a locked PIN is reset by the security officer`,
      )
    throw failure('C_Login', error)
  }
}

/** The token's AES secret keys, all of them or those with `label`. */
export function findAesKeys(token: TokenSession, label?: string): Buffer[] {
  const { pkcs11, ck } = token.library
  const template: Template = [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
    ...(label === undefined ? [] : [{ type: ck.CKA_LABEL, value: label }]),
  ]
  pkcs11Call('C_FindObjectsInit', () => pkcs11.C_FindObjectsInit(token.session, template))
  try {
    const found: Buffer[] = []
    for (;;) {
      const batch = pkcs11Call('C_FindObjects', () => pkcs11.C_FindObjects(token.session, 16))
      if (batch.length === 0) return found
      found.push(...batch)
    }
  } finally {
    pkcs11Call('C_FindObjectsFinal', () => pkcs11.C_FindObjectsFinal(token.session))
  }
}

/** The labels of the token's AES secret keys, for an error that says which ones exist. */
export function aesKeyLabels(token: TokenSession): string[] {
  const { pkcs11, ck } = token.library
  return findAesKeys(token).map((key) => {
    const [label] = pkcs11Call('C_GetAttributeValue', () =>
      pkcs11.C_GetAttributeValue(token.session, key, [{ type: ck.CKA_LABEL }]),
    )
    return JSON.stringify(label?.value.toString('utf8') ?? '')
  })
}
