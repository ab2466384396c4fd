import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { MpcError } from './errors.js'

/**
 * The party-to-party envelope. Each pair of parties shares a key from X25519 ECDH of their long-term keys,
 * expanded with HKDF-SHA256 per session; messages are AES-256-GCM with associated data
 * session | from | to | round, so the relay between them (the hub) sees only ciphertext and can neither forge,
 * redirect, move a message to another round or session, nor replay one (each (from, round) opens once).
 */
export interface PartyKeys {
  readonly name: string
  readonly privateKey: KeyObject
  /** Raw 32-byte X25519 public key, pinned by every peer. */
  readonly publicKey: Uint8Array
}

export interface Envelope {
  readonly session: Uint8Array
  readonly from: string
  readonly to: string
  readonly round: number
  readonly body: Uint8Array
}

export const SESSION_ID_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16

export function generatePartyKeys(name: string): PartyKeys {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  const jwk = publicKey.export({ format: 'jwk' })
  return { name, privateKey, publicKey: new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url')) }
}

export function newSessionId(): Uint8Array {
  return new Uint8Array(randomBytes(SESSION_ID_BYTES))
}

function pairKey(self: PartyKeys, peerPublicKey: Uint8Array, peer: string, session: Uint8Array): Buffer {
  const peerKey = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peerPublicKey).toString('base64url') },
    format: 'jwk',
  })
  const shared = diffieHellman({ privateKey: self.privateKey, publicKey: peerKey })
  const [low, high] = [self.name, peer].sort()
  return Buffer.from(hkdfSync('sha256', shared, session, `countersign mpc envelope v1|${low}|${high}`, 32))
}

function associatedData(session: Uint8Array, from: string, to: string, round: number): Buffer {
  return Buffer.concat([Buffer.from(session), Buffer.from(`|${from}|${to}|${round}`)])
}

/** Seals and opens the envelopes of one session for one party; remembers what it opened to refuse replays. */
export class SessionChannel {
  private readonly self: PartyKeys
  readonly session: Uint8Array
  private readonly keys = new Map<string, Buffer>()
  private readonly opened = new Set<string>()

  constructor(self: PartyKeys, session: Uint8Array, peers: ReadonlyMap<string, Uint8Array>) {
    this.self = self
    this.session = session
    if (session.length !== SESSION_ID_BYTES)
      throw new MpcError('CS_MPC_BAD_INPUT', `a session id is ${SESSION_ID_BYTES} random bytes`)
    for (const [name, publicKey] of peers)
      if (name !== self.name) this.keys.set(name, pairKey(self, publicKey, name, session))
  }

  seal(to: string, round: number, plaintext: Uint8Array): Envelope {
    const key = this.keyFor(to)
    const nonce = randomBytes(NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', key, nonce)
    cipher.setAAD(associatedData(this.session, this.self.name, to, round))
    const body = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
    return { session: this.session, from: this.self.name, to, round, body: new Uint8Array(body) }
  }

  /** The plaintext, or an error when the envelope is not authentic, not for us, or a replay. */
  open(envelope: Envelope): Uint8Array {
    const { from, to, round, body } = envelope
    if (to !== this.self.name || !Buffer.from(envelope.session).equals(Buffer.from(this.session)))
      throw new MpcError('CS_MPC_BAD_MESSAGE', `envelope addressed to ${to} in another session`, {
        party: from,
      })
    const replayKey = `${from}|${round}`
    if (this.opened.has(replayKey))
      throw new MpcError('CS_MPC_BAD_MESSAGE', `replayed message of round ${round}`, { party: from })
    if (body.length < NONCE_BYTES + TAG_BYTES)
      throw new MpcError('CS_MPC_BAD_MESSAGE', 'envelope too short', { party: from })
    const key = this.keys.get(from)
    if (key === undefined)
      throw new MpcError('CS_MPC_BAD_MESSAGE', `envelope from ${from}, who is not in this session`)
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, NONCE_BYTES))
      decipher.setAAD(associatedData(this.session, from, to, round))
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
      const plaintext = Buffer.concat([
        decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ])
      this.opened.add(replayKey)
      return new Uint8Array(plaintext)
    } catch {
      throw new MpcError('CS_MPC_BAD_MESSAGE', `envelope of round ${round} failed authentication`, {
        party: from,
      })
    }
  }

  private keyFor(peer: string): Buffer {
    const key = this.keys.get(peer)
    if (key === undefined) throw new MpcError('CS_MPC_BAD_INPUT', `${peer} is not a party of this session`)
    return key
  }
}
