import { describe, expect, it } from 'vitest'
import { generatePartyKeys, newSessionId, SessionChannel, type Envelope } from './envelope.js'

const cloud1 = generatePartyKeys('cloud1')
const cloud2 = generatePartyKeys('cloud2')
const alice = generatePartyKeys('alice')
const pins = new Map([cloud1, cloud2, alice].map((k) => [k.name, k.publicKey]))
const plaintext = new TextEncoder().encode('round message')
const refused = (party: string) => expect.objectContaining({ code: 'CS_MPC_BAD_MESSAGE', party })

function pair(session = newSessionId()) {
  return {
    session,
    sender: new SessionChannel(cloud2, session, pins),
    receiver: new SessionChannel(cloud1, session, pins),
  }
}

describe('SessionChannel envelopes', () => {
  it('opens what the sender sealed for it, once', () => {
    const { sender, receiver } = pair()
    const envelope = sender.seal('cloud1', 2, plaintext)
    expect(Buffer.from(envelope.body).includes(Buffer.from(plaintext))).toBe(false)
    expect(receiver.open(envelope)).toEqual(plaintext)
    expect(() => receiver.open(envelope)).toThrow(refused('cloud2'))
  })

  it('refuses every single flipped bit of the body', () => {
    const { sender, receiver } = pair()
    const envelope = sender.seal('cloud1', 1, plaintext)
    for (let at = 0; at < envelope.body.length; at++) {
      const body = Uint8Array.from(envelope.body)
      body[at] = (body[at] as number) ^ 0x80
      expect(() => receiver.open({ ...envelope, body })).toThrow(refused('cloud2'))
    }
    expect(receiver.open(envelope)).toEqual(plaintext) // the failures consumed nothing
  })

  it('refuses an envelope moved to another round, sender, receiver or session', () => {
    const { session, sender, receiver } = pair()
    const envelope = sender.seal('cloud1', 1, plaintext)
    const moved: [Envelope, string][] = [
      [{ ...envelope, round: 2 }, 'cloud2'],
      [{ ...envelope, from: 'alice' }, 'alice'],
    ]
    for (const [forged, from] of moved) expect(() => receiver.open(forged)).toThrow(refused(from))
    // Reflected back to its sender: the pair key is the same both ways, the associated data is not.
    const reflected = { ...envelope, from: 'cloud1', to: 'cloud2' }
    expect(() => sender.open(reflected)).toThrow(refused('cloud1'))
    // Sent on to another receiver, and relabelled for it.
    expect(() => new SessionChannel(alice, session, pins).open({ ...envelope, to: 'alice' })).toThrow(
      refused('cloud2'),
    )
    // Replayed into a later session between the same parties.
    const later = new SessionChannel(cloud1, newSessionId(), pins)
    expect(() => later.open({ ...envelope, session: later.session })).toThrow(refused('cloud2'))
    expect(receiver.open(envelope)).toEqual(plaintext)
  })

  it('refuses envelopes from unknown parties, too short to hold a tag, or with a malformed session id', () => {
    const { session, receiver } = pair()
    const mallory = new SessionChannel(
      generatePartyKeys('mallory'),
      session,
      new Map([...pins, ['mallory', generatePartyKeys('x').publicKey]]),
    )
    expect(() => receiver.open(mallory.seal('cloud1', 1, plaintext))).toThrow(
      expect.objectContaining({ code: 'CS_MPC_BAD_MESSAGE' }),
    )
    expect(() =>
      receiver.open({ session, from: 'cloud2', to: 'cloud1', round: 1, body: new Uint8Array(27) }),
    ).toThrow(refused('cloud2'))
    expect(() => new SessionChannel(cloud1, new Uint8Array(16), pins)).toThrow(
      expect.objectContaining({ code: 'CS_MPC_BAD_INPUT' }),
    )
  })

  it('refuses an impostor who claims a pinned name with another key', () => {
    const { session, receiver } = pair()
    const impostor = new SessionChannel(generatePartyKeys('cloud2'), session, pins)
    expect(() => receiver.open(impostor.seal('cloud1', 1, plaintext))).toThrow(refused('cloud2'))
  })
})
