import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { rawExec, testDatabases } from '../../../test/support/databases.js'
import { openCosignerStore, type CosignerStore } from '../index.js'

const pairing = (party: string) => ({
  party,
  hubUrl: 'http://127.0.0.1:1',
  cosignerId: `cosigner-of-${party}`,
  hubKey: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' },
  name: null,
  callback: null,
  pairedAt: 1,
})
const bytes = (text: string) => new Uint8Array(Buffer.from(text))

describe.each(testDatabases)('the co-signer store on $name', (database) => {
  let store: CosignerStore | undefined
  afterEach(async () => store?.close())
  afterAll(() => database.dropAll())

  it('hands a single-use secret out once, under concurrent takers, and never stores it again', async () => {
    store = await openCosignerStore(await database.freshUrl())
    await store.putSecret({ kind: 'presignature', id: 'alice/p1', sealed: bytes('sealed-1') })
    const taken = await Promise.all(
      Array.from({ length: 8 }, () => store!.takeSecret('presignature', 'alice/p1')),
    )
    expect(
      taken.filter((value) => value !== undefined).map((value) => Buffer.from(value).toString()),
    ).toEqual(['sealed-1'])
    expect(await store.getSecret('presignature', 'alice/p1')).toBeUndefined()
    expect(await store.hasSecret('presignature', 'alice/p1')).toBe(true)
    await expect(
      store.putSecret({ kind: 'presignature', id: 'alice/p1', sealed: bytes('again') }),
    ).rejects.toThrow(/used once/)
  })

  it('records an approval once, lists it pending until decided, and finds it by attempt', async () => {
    store = await openCosignerStore(await database.freshUrl())
    const approval = {
      job: 'tx-1:1:approve',
      party: 'alice',
      txId: 'tx-1',
      attempt: 1,
      requestId: 'tx-1',
      body: { a: 1 },
    }
    expect(await store.receiveApproval(approval)).toBe(true)
    expect(await store.receiveApproval(approval)).toBe(false)
    expect((await store.pendingApprovals('alice')).map((a) => a.job)).toEqual(['tx-1:1:approve'])
    await store.decideApproval('tx-1:1:approve', 'declined', 'no')
    await store.decideApproval('tx-1:1:approve', 'done', null) // the first decision stands
    expect(await store.pendingApprovals('alice')).toEqual([])
    expect(await store.approvalOf('alice', 'tx-1', 1)).toMatchObject({ outcome: 'declined', reason: 'no' })
    expect(await store.approvalOf('alice', 'tx-1', 2)).toBeUndefined()
    expect(await store.approvalOf('bob', 'tx-1', 1)).toBeUndefined()
  })

  it('removes a pairing with every secret of that API user only', async () => {
    store = await openCosignerStore(await database.freshUrl())
    await store.savePairing(pairing('al_ce'), [
      { kind: 'refresh-token', id: 'al_ce/refresh', sealed: bytes('a') },
    ])
    await store.savePairing(pairing('alice'), [
      { kind: 'refresh-token', id: 'alice/refresh', sealed: bytes('b') },
    ])
    await store.putSecret({ kind: 'key-share', id: 'al_ce/MPC_ECDSA_SECP256K1/al_ce', sealed: bytes('s') })
    expect(await store.removePairing('al_ce')).toBe(true)
    expect(await store.getSecret('refresh-token', 'al_ce/refresh')).toBeUndefined()
    expect(await store.getSecret('key-share', 'al_ce/MPC_ECDSA_SECP256K1/al_ce')).toBeUndefined()
    // A prefix, not a pattern: `_` matches only itself, so alice's secrets are not al_ce's.
    expect(await store.getSecret('refresh-token', 'alice/refresh')).toBeDefined()
    expect((await store.pairings()).map((p) => p.party)).toEqual(['alice'])
  })

  it('chains its audit, and an edited entry breaks the chain', async () => {
    const url = await database.freshUrl()
    store = await openCosignerStore(url)
    await store.audit('cosigner-approval-received', 'r-1', { party: 'alice' })
    await store.audit('cosigner-approval-decided', 'r-1', { party: 'alice', outcome: 'done' })
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 2 })
    await store.close()
    store = undefined
    await rawExec(
      url,
      `UPDATE audit_log SET body_json = replace(body_json, 'done', 'declined') WHERE seq = 2`,
    )
    store = await openCosignerStore(url)
    expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenSeq: 2 })
  })
})
