import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { rawExec, testDatabases } from '../../../test/support/databases.js'
import { openCloudLog, type AuthorizedSigning, type CloudLog } from '../index.js'

const signing = (changes: Partial<AuthorizedSigning> = {}): AuthorizedSigning => ({
  job: 'job-1',
  txId: 'tx-1',
  attempt: 1,
  algorithm: 'MPC_ECDSA_SECP256K1',
  signer: 'alice',
  ruleId: null,
  content: 'ab'.repeat(32),
  path: [44, 60, 0, 0, 1],
  session: '01'.repeat(32),
  authorization: 'header.payload.signature',
  ...changes,
})

describe.each(testDatabases)('the cloud log on $name', (database) => {
  let log: CloudLog | undefined
  afterEach(async () => log?.close())
  afterAll(() => database.dropAll())

  it('records each rule once, under concurrent writers too, and its chain verifies', async () => {
    const url = await database.freshUrl()
    log = await openCloudLog(url)
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => log!.record(signing())))
    expect(outcomes.filter((outcome) => outcome.recorded)).toHaveLength(1)
    // The second entry of the same authorization (another session, other content) is allowed.
    expect(await log.record(signing({ session: '02'.repeat(32), content: 'cd'.repeat(32) }))).toMatchObject({
      recorded: true,
    })
    // The same content again under a retry attempt of the same transaction is allowed; twice in one is not.
    expect(
      await log.record(signing({ attempt: 2, session: '03'.repeat(32), authorization: 'other.auth.x' })),
    ).toMatchObject({ recorded: true })
    expect(
      await log.record(signing({ attempt: 2, session: '04'.repeat(32), authorization: 'other.auth.x' })),
    ).toEqual({
      recorded: false,
      reason: 'this content is signed once per attempt: attempt 2 signed it already',
    })
    expect(await log.record(signing({ txId: 'tx-2', session: '05'.repeat(32) }))).toEqual({
      recorded: false,
      reason: 'this content was signed before under another transaction (tx-1)',
    })
    // Attempt 2 was authorized: attempt 1 may no longer be joined, whatever its session.
    expect(await log.record(signing({ session: '06'.repeat(32), content: 'ef'.repeat(32) }))).toEqual({
      recorded: false,
      reason: 'attempt 1 of transaction tx-1 was superseded by attempt 2',
    })
    const signed = await log.recordSignature({
      job: 'job-1',
      txId: 'tx-1',
      attempt: 2,
      algorithm: 'MPC_ECDSA_SECP256K1',
      content: 'ab'.repeat(32),
    })
    expect(signed).toMatchObject({ event: 'cloud-signature', requestId: 'tx-1' })
    expect(await log.verifyLog()).toMatchObject({ ok: true, entries: 4 })
    await log.close()
    log = undefined
    await rawExec(
      url,
      `UPDATE audit_log SET body_json = replace(body_json, 'alice', 'mallory') WHERE seq = 2`,
    )
    log = await openCloudLog(url)
    expect(await log.verifyLog()).toMatchObject({ ok: false, brokenSeq: 2 })
  })
})
