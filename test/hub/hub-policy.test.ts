/**
 * The workspace's transaction policy end to end (docs/hub-policy.md), through the official
 * `@fireblocks/ts-sdk` and signed REST calls: the Owner and an Admin publish a policy through the TAP drafts;
 * its rules then block a listed destination, hold a transaction for 2 of 3 approvers (approved → signed,
 * one rejection → rejected), dispatch only to designated signers, and block what no rule matches. An Admin
 * alone cannot publish: the old policy keeps deciding.
 */
import type { Fireblocks } from '@fireblocks/ts-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRaw,
  digestOf,
  startWorkspace,
  transactionIn,
  type ApiUser,
  type Workspace,
} from './workspace.js'

const BLOCKED_ADDRESS = '0x7F367cC41522cE07553e823bf3be79A889DEbe1B'

let workspace: Workspace
let fireblocks: Fireblocks
let admin: ApiUser
let approvers: ApiUser[]
let signer: ApiUser
let lonelySigner: ApiUser

function policyYaml(): string {
  return `version: 7
groups:
  approvers: [${approvers.map((user) => user.id).join(', ')}]
lists:
  blocked: ['${BLOCKED_ADDRESS}']
rules:
  - id: blocked-destination
    match: { operation: [TRANSFER] }
    when: dest.address in lists.blocked
    action: BLOCK
    reason: the destination is on the blocked list
  - id: four-eyes
    match: { operation: [RAW] }
    when: note == 'four eyes'
    action: REQUIRE_APPROVAL
    approvers: { quorum: 2, of: [group:approvers] }
  - id: lonely-signer
    match: { operation: [RAW] }
    when: note == 'lonely'
    action: ALLOW
    signers: [${lonelySigner.id}]
  - id: paired-signer
    match: { operation: [RAW] }
    when: note == 'paired'
    action: ALLOW
    signers: [${signer.id}]
`
}

async function json<T>(response: Promise<Response>, status = 200): Promise<T> {
  const answered = await response
  const body = (await answered.json()) as T
  expect({ status: answered.status, body }).toMatchObject({ status })
  return body
}

/** Proposes `policy` as `by` and submits it; answers the draft's id and the submission's status. */
async function proposeAndSubmit(by: ApiUser, policy: string): Promise<{ draftId: string; status: string }> {
  const proposed = await json<{ draftResponse: { status: string; draftId: string } }>(
    workspace.call(by, 'PUT', '/v1/tap/draft', { policy }),
  )
  expect(proposed.draftResponse.status).toBe('SUCCESS')
  const { draftId } = proposed.draftResponse
  const submitted = await json<{ status: string }>(
    workspace.call(by, 'POST', '/v1/tap/draft', { draftId }),
    201,
  )
  return { draftId, status: submitted.status }
}

let contentCount = 0
/** A RAW request over a digest no other transaction of this file signs. */
async function raw(note: string): Promise<string> {
  contentCount++
  return createRaw(fireblocks, digestOf(`policy ${contentCount}`), { note })
}

const vote = (user: ApiUser, txId: string, verb: 'approve' | 'reject') =>
  workspace.call(user, 'POST', `/v1/transactions/${txId}/${verb}`)

beforeAll(async () => {
  workspace = await startWorkspace()
  fireblocks = workspace.sdk(workspace.owner)
  admin = await workspace.createApiUser('policy admin', 'ADMIN')
  approvers = await Promise.all(
    ['approver one', 'approver two', 'approver three'].map((name) =>
      workspace.createApiUser(name, 'APPROVER'),
    ),
  )
  signer = await workspace.createApiUser('paired signer', 'SIGNER')
  lonelySigner = await workspace.createApiUser('signer without co-signer', 'SIGNER')
  await workspace.startCosigner(signer, 'cosigner-p')
  await fireblocks.vaults.createVaultAccount({ createVaultAccountRequest: { name: 'policy' } })
  await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
}, 300_000)

afterAll(async () => {
  await workspace?.close()
})

describe('the transaction policy, published and applied through the API', () => {
  it('publishes a policy once the Owner and an Admin approved it', async () => {
    const { draftId, status } = await proposeAndSubmit(workspace.owner, policyYaml())
    expect(status).toBe('AWAITING_QUORUM')
    const approved = await json<{ status: string; state: string }>(
      workspace.call(admin, 'POST', `/v1/tap/drafts/${draftId}/approve`),
    )
    expect(approved).toMatchObject({ status: 'SUCCESS', state: 'published' })
    const active = await json<{ policy: { rules: { id: string }[]; metadata: { version: number } } }>(
      workspace.call(approvers[0] as ApiUser, 'GET', '/v1/tap/active_policy'),
    )
    expect(active.policy.metadata.version).toBe(2)
    expect(active.policy.rules.map((rule) => rule.id)).toEqual([
      'blocked-destination',
      'four-eyes',
      'lonely-signer',
      'paired-signer',
    ])
  })

  it('blocks a transfer to a listed destination (BLOCKED_BY_POLICY as the SDK reads it)', async () => {
    const created = await fireblocks.transactions.createTransaction({
      transactionRequest: {
        operation: 'TRANSFER',
        assetId: 'ETH_TEST6',
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        // Lower case: the policy compares normalised addresses, so a different spelling does not slip past.
        destination: { type: 'ONE_TIME_ADDRESS', oneTimeAddress: { address: BLOCKED_ADDRESS.toLowerCase() } },
        amount: '0.001',
      },
    })
    const tx = await transactionIn(fireblocks, created.data.id as string)
    expect(tx).toMatchObject({
      status: 'BLOCKED',
      subStatus: 'BLOCKED_BY_POLICY',
      errorDescription: 'the destination is on the blocked list',
      signedBy: [],
    })
  })

  it('holds a transaction for 2 of 3 approvers, then signs it', async () => {
    const txId = await raw('four eyes')
    await transactionIn(fireblocks, txId, ['PENDING_AUTHORIZATION'])
    const [first, second] = approvers as [ApiUser, ApiUser, ApiUser]

    expect((await vote(signer, txId, 'approve')).status).toBe(400)
    expect(await json(vote(first, txId, 'approve'))).toMatchObject({ status: 'PENDING_AUTHORIZATION' })
    // The same approver twice is one approval: the quorum counts distinct users.
    await vote(first, txId, 'approve')
    expect((await fireblocks.transactions.getTransaction({ txId })).data.status).toBe('PENDING_AUTHORIZATION')

    await json(vote(second, txId, 'approve'))
    const tx = await transactionIn(fireblocks, txId)
    expect(tx).toMatchObject({ status: 'COMPLETED', signedBy: [signer.id] })
    expect(tx.signedMessages).toHaveLength(1)
  })

  it('rejects a held transaction when one approver rejects after another approved', async () => {
    const txId = await raw('four eyes')
    await transactionIn(fireblocks, txId, ['PENDING_AUTHORIZATION'])
    const [first, , third] = approvers as [ApiUser, ApiUser, ApiUser]
    await json(vote(first, txId, 'approve'))
    await json(vote(third, txId, 'reject'))
    const tx = await transactionIn(fireblocks, txId)
    expect(tx).toMatchObject({
      status: 'REJECTED',
      subStatus: 'REJECTED_BY_USER',
      rejectedBy: third.id,
      signedBy: [],
    })
    expect((await vote(approvers[1] as ApiUser, txId, 'approve')).status).toBe(400)
  })

  it('leaves a transaction queued while its only designated signer has no co-signer', async () => {
    const txId = await raw('lonely')
    await transactionIn(fireblocks, txId, ['QUEUED'])
    // A few sweeps (every 2 s) later, no other signer has taken it.
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    const { data } = await fireblocks.transactions.getTransaction({ txId })
    expect(data).toMatchObject({ status: 'QUEUED', signedBy: [], signedMessages: [] })
    await fireblocks.transactions.cancelTransaction({ txId })
  })

  it('signs with the designated signer when it is the paired one', async () => {
    const tx = await transactionIn(fireblocks, await raw('paired'))
    expect(tx).toMatchObject({ status: 'COMPLETED', signedBy: [signer.id] })
  })

  it('blocks what no rule matches', async () => {
    const tx = await transactionIn(fireblocks, await raw('no rule for this'))
    expect(tx).toMatchObject({ status: 'BLOCKED', subStatus: 'BLOCKED_BY_POLICY', signedBy: [] })
  })

  it('does not publish a draft an Admin alone approved: the old policy still decides', async () => {
    const allowEverything = `version: 8
rules:
  - { id: allow-all, match: { operation: [RAW, TRANSFER] }, action: ALLOW }
`
    const { draftId, status } = await proposeAndSubmit(admin, allowEverything)
    expect(status).toBe('AWAITING_QUORUM')
    expect(await json(workspace.call(admin, 'POST', `/v1/tap/drafts/${draftId}/approve`))).toMatchObject({
      status: 'AWAITING_QUORUM',
      state: 'awaiting_quorum',
    })
    const active = await json<{ policy: { metadata: { version: number } } }>(
      workspace.call(admin, 'GET', '/v1/tap/active_policy'),
    )
    expect(active.policy.metadata.version).toBe(2)
    const tx = await transactionIn(fireblocks, await raw('no rule for this either'))
    expect(tx).toMatchObject({ status: 'BLOCKED', subStatus: 'BLOCKED_BY_POLICY' })
  })
})
