import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { KeyMaterialKind, KeyUnreadable, readKeyMaterialFile } from '../keys/index.js'
import { importRsaPrivateKey, importRsaPublicKey } from '../protocol/index.js'
import { describeFileError } from '../core/index.js'

export interface CallbackKeyFiles {
  /** The co-signer's private key (PEM or DER), which signs every request. */
  readonly cosignerKeyPath: string
  /** The handler public key registered for the API user (a public key or certificate, PEM or DER). */
  readonly handlerPublicKeyPath: string
}

export interface CallbackKeys {
  readonly cosignerKey: KeyObject
  readonly handlerPublicKey: KeyObject
}

/** Reads both keys once; every failure is one sentence naming the file and never shows key bytes. */
export async function loadCallbackKeys(files: CallbackKeyFiles): Promise<CallbackKeys> {
  let privateBytes: Buffer
  try {
    privateBytes = await readFile(files.cosignerKeyPath)
  } catch (error) {
    throw new KeyUnreadable(`cannot read ${files.cosignerKeyPath}: ${describeFileError(error)}`, {
      cause: error,
    })
  }
  const handlerMaterial = await readKeyMaterialFile(files.handlerPublicKeyPath, {
    expect: [KeyMaterialKind.publicKey, KeyMaterialKind.certificate],
  })
  return {
    cosignerKey: importRsaPrivateKey(privateBytes, `the co-signer key ${files.cosignerKeyPath}`),
    handlerPublicKey: importRsaPublicKey(
      handlerMaterial.publicKey,
      `the handler public key ${files.handlerPublicKeyPath}`,
    ),
  }
}
