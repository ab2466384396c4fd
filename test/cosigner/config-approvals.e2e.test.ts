/**
 * Configuration changes approved by an API co-signer: a policy draft the Owner submitted is sent to the
 * co-signer of an Admin API user, which asks its callback handler (`config_change_sign_request`, type
 * POLICY_APPROVAL) and, on APPROVE, signs the draft's statement with the Admin's configuration-change key; the
 * hub counts the vote only when that signature verifies under the key registered at pairing.
 */
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/core/index.js'
import { openCosignerFolder } from '../../src/cosigner/index.js'
import { startWorkspace, until, type ApiUser, type Workspace } from '../hub/workspace.js'
import { attachScriptedHandler, startScriptedHandler, type ScriptedHandler } from './scripted-handler.js'

let workspace: Workspace
let handler: ScriptedHandler
let admin: ApiUser

async function json<T>(response: Promise<Response>): Promise<T> {
  return (await (await response).json()) as T
}

/** The Owner proposes a policy and submits it (its own approval recorded): the draft awaits the Admins. */
async function submitted(version: number): Promise<string> {
  const policy = `version: ${version}\nrules:\n  - id: raw\n    match: { operation: [RAW] }\n    action: ALLOW\n`
  const proposed = await json<{ draftResponse: { draftId: string } }>(
    workspace.call(workspace.owner, 'PUT', '/v1/tap/draft', { policy }),
  )
  const { draftId } = proposed.draftResponse
  return draftId
}

async function submit(draftId: string): Promise<void> {
  const response = await workspace.call(workspace.owner, 'POST', '/v1/tap/draft', { draftId })
  expect(response.status).toBe(201)
}

const draftState = async (draftId: string) => (await workspace.hub.hub.governance.draft(draftId))?.state

beforeAll(async () => {
  handler = await startScriptedHandler()
  workspace = await startWorkspace()
  admin = await workspace.createApiUser('admin with a co-signer', 'ADMIN')
  await workspace.startCosigner(admin, 'cosigner-admin')
  await attachScriptedHandler(handler, join(workspace.dir, 'cosigner-admin'), admin.id)
}, 300_000)

afterAll(async () => {
  await workspace?.close()
  await handler?.close()
})

describe('policy approvals by an API co-signer', { timeout: 120_000 }, () => {
  it('publishes a draft whose Admin co-signer’s handler approves it, with a verified signature', async () => {
    const draftId = await submitted(11)
    handler.script(draftId, ['APPROVE'])
    await submit(draftId)
    await until('the draft to be published', async () =>
      (await draftState(draftId)) === 'published' ? true : undefined,
    )
    const [request] = handler.seen.filter((seen) => seen.payload.type === 'POLICY_APPROVAL')
    expect(request?.payload).toMatchObject({
      type: 'POLICY_APPROVAL',
      signerId: admin.id,
      extraInfo: { policyType: 'TRANSFER', draftId, rulesCount: 1 },
    })
    const draft = await workspace.hub.hub.governance.draft(draftId)
    expect(draft?.votes.map((vote) => [vote.userId, vote.vote])).toEqual([
      [workspace.owner.id, 'approve'],
      [admin.id, 'approve'],
    ])
    expect(await workspace.hub.hub.governance.activeRecord()).toMatchObject({
      draftId,
      digest: draft?.digest,
    })
  })

  it('rejects a draft whose Admin co-signer’s handler rejects it', async () => {
    const draftId = await submitted(12)
    handler.script(draftId, [{ action: 'REJECT', reason: 'not during the freeze' }])
    await submit(draftId)
    await until('the draft to be rejected', async () =>
      (await draftState(draftId)) === 'rejected' ? true : undefined,
    )
  })

  it('counts no approval whose signature does not verify under the API user’s configuration-change key', async () => {
    const draftId = await submitted(13)
    handler.script(draftId, ['HANG']) // the real co-signer never answers in time; a forger tries first
    await submit(draftId)
    const jobId = `config:${draftId}:${admin.id}`
    await until('the config job', async () =>
      (await workspace.hub.hub.link.jobResult(jobId)) ? true : undefined,
    )
    const draft = await workspace.hub.hub.governance.draft(draftId)
    const statement = {
      type: 'POLICY_APPROVAL',
      draftId,
      digest: draft?.digest,
      userId: admin.id,
      decision: 'APPROVE',
    }
    /** An answer to the job as the admin's co-signer would post it: `signed` signed by `key`. */
    const answer = (signed: object, key: KeyObject) =>
      workspace.hub.hub.link.submitResult(admin.id, {
        job: jobId,
        outcome: 'done',
        signature: sign(null, Buffer.from(canonicalJson(signed)), key).toString('hex'),
      })
    await expect(answer(statement, generateKeyPairSync('ed25519').privateKey)).rejects.toMatchObject({
      statusCode: 422,
    })
    // The right key over another statement (another digest): refused too, it is not this draft.
    const folder = await openCosignerFolder(join(workspace.dir, 'cosigner-admin'), {})
    const configKey = createPrivateKey(
      Buffer.from((await folder.secrets.get('config-key', `${admin.id}/config`))!).toString(),
    )
    await folder.close()
    await expect(answer({ ...statement, digest: 'ab'.repeat(32) }, configKey)).rejects.toMatchObject({
      statusCode: 422,
    })
    // And the genuine signature by that key counts.
    await answer(statement, configKey)
    await until('the draft to be published', async () =>
      (await draftState(draftId)) === 'published' ? true : undefined,
    )
  })
})
