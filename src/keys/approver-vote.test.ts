import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sampleVote } from '../../test/support/approvers.js'
import { checkVote, importStatementPublicKey, signVote, VOTE_WINDOW_MS } from './index.js'

const facts = sampleVote
const { signedAt } = facts

function keyPair(kind: 'ed25519' | 'p256') {
  const { privateKey, publicKey } =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string }
}

const expected = (publicKeyPem: string) => ({ ...facts, publicKeyPem, recordedAt: signedAt + 1_000 })

describe('checkVote', () => {
  it.each(['ed25519', 'p256'] as const)('accepts a %s vote over exactly the recorded facts', (kind) => {
    const { privateKey, publicKeyPem } = keyPair(kind)
    expect(checkVote(facts, signVote(facts, privateKey), expected(publicKeyPem))).toBeNull()
  })

  it('refuses each fact changed after signing, and another spelling of the signature', () => {
    const { privateKey, publicKeyPem } = keyPair('ed25519')
    const signature = signVote(facts, privateKey)
    for (const changed of [{ decision: 'reject' as const }, { reason: 'x' }, { signedAt: signedAt + 1 }]) {
      const altered = { ...facts, ...changed }
      expect(checkVote(altered, signature, { ...expected(publicKeyPem), ...changed })).toMatch(
        /does not verify/,
      )
    }
    // Node's base64url decoder would skip a stray character: the same bytes spelled otherwise are refused.
    expect(
      checkVote(facts, `${signature.slice(0, 10)}.${signature.slice(10)}`, expected(publicKeyPem)),
    ).toMatch(/does not verify/)
  })

  it('refuses a vote recorded outside the window, in either direction', () => {
    const { privateKey, publicKeyPem } = keyPair('ed25519')
    const signature = signVote(facts, privateKey)
    for (const recordedAt of [signedAt + VOTE_WINDOW_MS + 1, signedAt - VOTE_WINDOW_MS - 1])
      expect(checkVote(facts, signature, { ...expected(publicKeyPem), recordedAt })).toMatch(
        /more than 5 minutes/,
      )
  })

  it('refuses RSA and other-curve keys as approver keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    })
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    })
    expect(() => importStatementPublicKey(rsa as string, 'rsa.pub')).toThrow(
      expect.objectContaining({ code: 'CS_STATEMENT_KEY_UNSUPPORTED' }),
    )
    expect(() => importStatementPublicKey(p384 as string, 'p384.pub')).toThrow(/EC key on another curve/)
  })
})
