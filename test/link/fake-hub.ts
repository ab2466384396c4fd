import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import { CompactSign } from 'jose'
import type { LinkTransport, WireEnvelope } from '../../src/link/index.js'
import { generatePartyKeys, type PartyKeys } from '../../src/mpc/index.js'
import {
  LINK_MESSAGE_TYPE,
  type KeygenBody,
  type LinkMessage,
  type MailboxResponse,
  type ResultRequest,
  type SignBody,
  type SigningAlgorithm,
} from '../../src/protocol/index.js'

type Holders = KeygenBody['holders']
interface Mailbox {
  next: number
  entries: { cursor: number; message: string }[]
  wake: (() => void)[]
}

/** Signs a link message as the hub does (or, given another key, as an impostor would). */
export async function signLinkMessage(
  key: KeyObject,
  message: LinkMessage,
  typ: string = LINK_MESSAGE_TYPE,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(message)))
    .setProtectedHeader({ alg: 'EdDSA', typ })
    .sign(key)
}

/**
 * An in-memory hub with the link's semantics: one mailbox per party (cursor, long poll, ack), signed
 * messages, envelopes relayed between the holders of a session's job with `from` set to the sender, and the
 * results each party posts. `dropFrom` silences a party's envelopes (a party that never speaks).
 */
export class FakeHub {
  readonly serviceKey: KeyObject
  readonly hubKey: KeyObject
  readonly results = new Map<string, { party: string; result: ResultRequest }[]>()
  readonly sent = new Map<string, number>()
  dropFrom = new Set<string>()
  private readonly mailboxes = new Map<string, Mailbox>()
  private readonly sessions = new Map<string, readonly string[]>()
  private readonly parties = new Map<string, PartyKeys>()
  private readonly resultWaiters: (() => void)[] = []

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    this.serviceKey = privateKey
    this.hubKey = publicKey
  }

  keysOf(name: string): PartyKeys {
    let keys = this.parties.get(name)
    if (keys === undefined) this.parties.set(name, (keys = generatePartyKeys(name)))
    return keys
  }

  peersOf(names: readonly string[]): Record<string, string> {
    return Object.fromEntries(
      names.map((name) => [name, Buffer.from(this.keysOf(name).publicKey).toString('base64url')]),
    )
  }

  /** Puts a compact message in `to`'s mailbox as is. */
  deliverRaw(to: string, compact: string): void {
    const box = this.mailbox(to)
    box.entries.push({ cursor: ++box.next, message: compact })
    for (const wake of box.wake.splice(0)) wake()
  }

  async post(message: LinkMessage, key: KeyObject = this.serviceKey): Promise<string> {
    const compact = await signLinkMessage(key, message)
    this.deliverRaw(message.to, compact)
    return compact
  }

  message<K extends LinkMessage['kind']>(
    to: string,
    kind: K,
    body: Extract<LinkMessage, { kind: K }>['body'],
  ): LinkMessage {
    return { id: randomUUID(), to, iat: Math.floor(Date.now() / 1000), kind, body } as LinkMessage
  }

  keygenBody(algorithm: SigningAlgorithm, holders: Holders): KeygenBody {
    const session = randomBytes(32).toString('hex')
    this.sessions.set(session, holders)
    return { job: randomUUID(), algorithm, session, holders, peers: this.peersOf(holders) }
  }

  signBody(
    fields: Omit<SignBody, 'job' | 'session' | 'peers' | 'authorization'> & Partial<SignBody>,
  ): SignBody {
    const session = fields.session ?? randomBytes(32).toString('hex')
    this.sessions.set(session, fields.holders)
    return {
      job: randomUUID(),
      session,
      peers: this.peersOf(fields.holders),
      authorization: 'none',
      ...fields,
    }
  }

  /** Sends a job to each of its holders. */
  async startJob(kind: 'keygen' | 'sign', body: KeygenBody | SignBody): Promise<void> {
    for (const to of body.holders) await this.post(this.message(to, kind, body))
  }

  /** Waits until `count` results of `job` are in (or fails after `timeoutMs`). */
  async resultsOf(job: string, count: number, timeoutMs = 60_000): Promise<Map<string, ResultRequest>> {
    const deadline = Date.now() + timeoutMs
    while ((this.results.get(job)?.length ?? 0) < count) {
      if (Date.now() > deadline)
        throw new Error(`job ${job}: ${this.results.get(job)?.length ?? 0} of ${count} results`)
      await new Promise<void>((resolve) => {
        this.resultWaiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
    return new Map((this.results.get(job) ?? []).map(({ party, result }) => [party, result]))
  }

  transportFor(party: string): LinkTransport {
    return {
      pair: () => Promise.reject(new Error('the fake hub does not pair')),
      token: () => Promise.resolve({ accessToken: 'fake', expiresIn: 300 }),
      poll: (after, wait, signal) => this.poll(party, Number(after), wait, signal),
      ack: (cursor) => {
        const box = this.mailbox(party)
        box.entries = box.entries.filter((entry) => entry.cursor > Number(cursor))
        return Promise.resolve()
      },
      send: (envelopes) => this.relay(party, envelopes),
      postResult: (result) => {
        const list = this.results.get(result.job) ?? []
        list.push({ party, result })
        this.results.set(result.job, list)
        for (const wake of this.resultWaiters.splice(0)) wake()
        return Promise.resolve()
      },
      callbackHandler: () => Promise.resolve(undefined),
    }
  }

  private async relay(from: string, envelopes: readonly WireEnvelope[]): Promise<void> {
    this.sent.set(from, (this.sent.get(from) ?? 0) + envelopes.length)
    if (this.dropFrom.has(from)) return
    for (const { session, to, round, body } of envelopes) {
      const holders = this.sessions.get(session)
      if (holders === undefined || !holders.includes(from) || !holders.includes(to))
        throw new Error(`${from} → ${to} is not a pair of holders of session ${session}`)
      await this.post(this.message(to, 'mpc', { session, from, round, body }))
    }
  }

  private async poll(
    party: string,
    after: number,
    wait: number,
    signal?: AbortSignal,
  ): Promise<MailboxResponse> {
    const box = this.mailbox(party)
    const pending = () => box.entries.filter((entry) => entry.cursor > after)
    if (pending().length === 0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait * 1000)
        const done = () => {
          clearTimeout(timer)
          resolve()
        }
        box.wake.push(done)
        signal?.addEventListener('abort', done, { once: true })
      })
    const messages = pending().map((entry) => ({ cursor: String(entry.cursor), message: entry.message }))
    return { messages, cursor: messages.at(-1)?.cursor ?? String(after) }
  }

  private mailbox(party: string): Mailbox {
    let box = this.mailboxes.get(party)
    if (box === undefined) this.mailboxes.set(party, (box = { next: 0, entries: [], wake: [] }))
    return box
  }
}
