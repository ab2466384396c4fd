import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { CALLBACK_KEY_BITS, generateRsaKeyPair } from '../keys/index.js'
import { HttpLinkTransport, hubKeyFromJwk } from '../link/index.js'
import type { PartyKeys } from '../mpc/index.js'
import type { PairResponse } from '../protocol/index.js'
import { CallbackSettingSchema, type CallbackSetting } from './callback-target.js'
import { NotPaired } from './errors.js'
import type { CosignerFolder } from './folder.js'

/** One API user this co-signer is paired with, its secrets opened in memory. Never logged. */
export interface Pairing {
  readonly party: PartyKeys
  readonly hubUrl: string
  readonly cosignerId: string
  readonly refreshToken: string
  /** The API user's configuration-change key (Ed25519): signs its approvals of configuration changes. */
  readonly configKey: KeyObject
  readonly hubKey: KeyObject
  readonly name: string | null
  /** The callback handler set locally; the hub's (co-signers API) applies when this is null. */
  readonly callback: CallbackSetting | null
}

const CALLBACK_KEY_ID = 'cosigner'
const utf8 = (text: string) => new Uint8Array(Buffer.from(text))
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

/**
 * Pairs the co-signer with the API user a single-use pairing token names: a new X25519 party key, the token
 * exchanged for a refresh token, both sealed. Pairing an API user again (re-enrolment, a new token) replaces
 * its party key and refresh token; the hub then refuses the old refresh token. Its key shares are kept.
 */
export async function pairCosigner(
  folder: CosignerFolder,
  options: { readonly hubUrl: string; readonly pairingToken: string; readonly name?: string },
): Promise<Pairing> {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const config = generateKeyPairSync('ed25519')
  const transport = new HttpLinkTransport({ hubUrl: options.hubUrl })
  const paired: PairResponse = await transport.pair({
    pairingToken: options.pairingToken,
    partyKey: publicKey.export({ format: 'jwk' }).x ?? '',
    configKey: config.publicKey.export({ format: 'jwk' }).x ?? '',
    ...(options.name === undefined ? {} : { name: options.name }),
  })
  const party = paired.party
  const previous = (await folder.store.pairings()).find((pairing) => pairing.party === party)
  await folder.store.savePairing(
    {
      party,
      hubUrl: options.hubUrl,
      cosignerId: paired.cosignerId,
      hubKey: paired.hubKey,
      name: options.name ?? previous?.name ?? null,
      callback: previous?.callback ?? null,
      pairedAt: Date.now(),
    },
    [
      folder.secrets.sealed(
        'party-key',
        `${party}/x25519`,
        utf8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      ),
      folder.secrets.sealed('refresh-token', `${party}/refresh`, utf8(paired.refreshToken)),
      folder.secrets.sealed(
        'config-key',
        `${party}/config`,
        utf8(config.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      ),
    ],
  )
  await folder.store.audit('cosigner-paired', null, {
    party,
    hubUrl: options.hubUrl,
    cosignerId: paired.cosignerId,
    reEnrolment: previous !== undefined,
  })
  await callbackKey(folder)
  return pairingOf(folder, party)
}

export async function readPairings(folder: CosignerFolder): Promise<Pairing[]> {
  const parties = (await folder.store.pairings()).map((pairing) => pairing.party)
  return Promise.all(parties.map((party) => pairingOf(folder, party)))
}

async function pairingOf(folder: CosignerFolder, party: string): Promise<Pairing> {
  const stored = (await folder.store.pairings()).find((pairing) => pairing.party === party)
  const partyKey = await folder.secrets.get('party-key', `${party}/x25519`)
  const refreshToken = await folder.secrets.get('refresh-token', `${party}/refresh`)
  const configKey = await folder.secrets.get('config-key', `${party}/config`)
  if (stored === undefined || partyKey === undefined || refreshToken === undefined || configKey === undefined)
    throw new NotPaired(`this co-signer holds no pairing with API user ${party}`)
  const privateKey = createPrivateKey(text(partyKey))
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x ?? ''
  return {
    party: { name: party, privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')) },
    hubUrl: stored.hubUrl,
    cosignerId: stored.cosignerId,
    refreshToken: text(refreshToken),
    configKey: createPrivateKey(text(configKey)),
    hubKey: hubKeyFromJwk(stored.hubKey as PairResponse['hubKey']),
    name: stored.name,
    callback: stored.callback === null ? null : CallbackSettingSchema.parse(stored.callback),
  }
}

/**
 * The co-signer's RSA key for the callback protocol's JWTs (one per co-signer, as the vendor's
 * `print-public-key` shows): made at the first pairing, sealed; its public half goes to the handlers.
 */
export async function callbackKey(folder: CosignerFolder): Promise<KeyObject> {
  const stored = await folder.secrets.get('callback-key', CALLBACK_KEY_ID)
  if (stored !== undefined) return createPrivateKey(text(stored))
  const pair = await generateRsaKeyPair(CALLBACK_KEY_BITS)
  await folder.secrets.put('callback-key', CALLBACK_KEY_ID, utf8(pair.privateKeyPem))
  return pair.privateKey
}
