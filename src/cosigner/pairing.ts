import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { writePrivateKeyFile } from '../keys/index.js'
import { HttpLinkTransport, hubKeyFromJwk } from '../link/index.js'
import type { PartyKeys } from '../mpc/index.js'
import { AlreadyPaired, NotPaired } from './errors.js'

/**
 * A co-signer's pairing, kept in its folder: the party key (X25519, 0600), the refresh token (0600) and
 * what the hub said at pairing (party name, hub URL, hub key). Written atomically; never logged.
 * Development layout: sealing these under a key-encryption key is the co-signer issue's next step.
 */
const StateSchema = z.object({
  version: z.literal(1),
  hubUrl: z.string(),
  party: z.string(),
  cosignerId: z.string(),
  hubKey: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string() }),
})

export interface Pairing {
  readonly hubUrl: string
  readonly party: PartyKeys
  readonly cosignerId: string
  readonly refreshToken: string
  readonly hubKey: KeyObject
}

const files = (dir: string) => ({
  state: join(dir, 'state.json'),
  partyKey: join(dir, 'party.key'),
  refreshToken: join(dir, 'refresh-token'),
})

export async function pairCosigner(options: {
  readonly dir: string
  readonly hubUrl: string
  readonly pairingToken: string
  readonly name?: string
  readonly force?: boolean
}): Promise<Pairing> {
  const paths = files(options.dir)
  if (existsSync(paths.state) && options.force !== true)
    throw new AlreadyPaired(`${options.dir} is already paired (${paths.state})`)
  await mkdir(options.dir, { recursive: true, mode: 0o700 })
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const x = publicKey.export({ format: 'jwk' }).x ?? ''
  const transport = new HttpLinkTransport({ hubUrl: options.hubUrl })
  const paired = await transport.pair({
    pairingToken: options.pairingToken,
    partyKey: x,
    ...(options.name === undefined ? {} : { name: options.name }),
  })
  const force = { force: true }
  await writePrivateKeyFile(
    paths.partyKey,
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    force,
  )
  await writePrivateKeyFile(paths.refreshToken, paired.refreshToken, force)
  const state = {
    version: 1,
    hubUrl: options.hubUrl,
    party: paired.party,
    cosignerId: paired.cosignerId,
    hubKey: paired.hubKey,
  }
  await writePrivateKeyFile(paths.state, `${JSON.stringify(state, null, 2)}\n`, force)
  return readPairing(options.dir)
}

export async function readPairing(dir: string): Promise<Pairing> {
  const paths = files(dir)
  let state: z.infer<typeof StateSchema>
  try {
    state = StateSchema.parse(JSON.parse(await readFile(paths.state, 'utf8')))
  } catch (cause) {
    throw new NotPaired(`${dir} holds no readable pairing (${paths.state})`, { cause })
  }
  const privateKey = createPrivateKey(await readFile(paths.partyKey, 'utf8'))
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x ?? ''
  return {
    hubUrl: state.hubUrl,
    party: { name: state.party, privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')) },
    cosignerId: state.cosignerId,
    refreshToken: (await readFile(paths.refreshToken, 'utf8')).trim(),
    hubKey: hubKeyFromJwk(state.hubKey),
  }
}
