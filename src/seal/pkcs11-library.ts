import type { PKCS11 } from 'pkcs11js'
import { SealError } from './errors.js'

/** The pkcs11js module: the PKCS11 class, the CK* constants and its error classes. */
export type Pkcs11js = typeof import('pkcs11js')

/** A loaded, initialised PKCS#11 module library, shared by every user in this process. */
export interface Pkcs11Library {
  readonly path: string
  readonly pkcs11: PKCS11
  readonly ck: Pkcs11js
  /** Ends this user's share; the last one finalizes and unloads the library. */
  release(): void
}

interface Loaded {
  readonly pkcs11: PKCS11
  readonly ck: Pkcs11js
  /** False when something else in the process had initialised the library: then it is not ours to finalize. */
  readonly finalize: boolean
  users: number
}

/**
 * C_Initialize and C_Finalize are per process, not per caller: a second C_Initialize answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED and the first C_Finalize would end every other caller's sessions. So each
 * library path is loaded and initialised once and counted.
 */
const loaded = new Map<string, Loaded>()

export async function acquireLibrary(path: string): Promise<Pkcs11Library> {
  const ck = await importPkcs11js() // before the look-up, so that no other caller interleaves with it
  let entry = loaded.get(path)
  if (entry === undefined) {
    entry = initialise(path, ck)
    loaded.set(path, entry)
  }
  entry.users += 1
  const owned = entry
  let released = false
  return {
    path,
    pkcs11: owned.pkcs11,
    ck: owned.ck,
    release: () => {
      if (released) return
      released = true
      owned.users -= 1
      if (owned.users > 0) return
      loaded.delete(path)
      if (owned.finalize) pkcs11Call('C_Finalize', () => owned.pkcs11.C_Finalize())
      owned.pkcs11.close()
    },
  }
}

/** The native addon is loaded only when a PKCS#11 provider is used: the other providers never need it. */
async function importPkcs11js(): Promise<Pkcs11js> {
  try {
    return (await import('pkcs11js')).default
  } catch (error) {
    throw new SealError(
      'CS_SEAL_PKCS11_UNAVAILABLE',
      'the PKCS#11 provider needs the pkcs11js package, which is not installed or did not build: install g++, make and python3, then run npm rebuild pkcs11js (or npm install pkcs11js)',
      { cause: error },
    )
  }
}

function initialise(path: string, ck: Pkcs11js): Loaded {
  const pkcs11 = new ck.PKCS11()
  try {
    pkcs11.load(path)
  } catch (error) {
    throw new SealError(
      'CS_SEAL_PKCS11_UNAVAILABLE',
      `cannot load the PKCS#11 module ${path}: check the path (SoftHSM2 on Debian: apt-get install softhsm2, /usr/lib/softhsm/libsofthsm2.so)`,
      { cause: error },
    )
  }
  try {
    // The library may lock with the operating system's primitives: Node runs PKCS#11 calls on several threads.
    pkcs11.C_Initialize({ flags: ck.CKF_OS_LOCKING_OK })
    return { pkcs11, ck, finalize: true, users: 0 }
  } catch (error) {
    if (ckrName(error) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED')
      return { pkcs11, ck, finalize: false, users: 0 }
    pkcs11.close()
    throw failure('C_Initialize', error)
  }
}

/** The CKR_ name of a pkcs11js error (`CKR_PIN_INCORRECT`), or undefined for any other error. */
export function ckrName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  return /^CKR_[A-Z0-9_]+/.exec(error.message)?.[0]
}

/** A PKCS#11 call that failed for a reason the caller does not handle itself, named with its CKR_ code. */
export function failure(functionName: string, error: unknown): SealError {
  const reason = ckrName(error) ?? (error instanceof Error ? error.message : String(error))
  return new SealError('CS_SEAL_PKCS11_FAILED', `PKCS#11 ${functionName} failed: ${reason}`, {
    cause: error,
  })
}

/** Runs one PKCS#11 call, turning an error into CS_SEAL_PKCS11_FAILED. */
export function pkcs11Call<T>(functionName: string, call: () => T): T {
  try {
    return call()
  } catch (error) {
    throw failure(functionName, error)
  }
}
