import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { runCli } from '../support/cli.js'
import { verifyCallbackResponse } from '../../src/protocol/index.js'
import { TEST_POLICY, startTestHandler } from './support.js'

describe('policy replay', () => {
  it('lists exactly the recorded requests whose outcome a candidate policy would change', async () => {
    const h = await startTestHandler()
    const send = async (name: string) => {
      const requestId = randomUUID()
      const reply = await h.send('tx', { ...loadTxFixture(name), requestId, txId: requestId })
      return { requestId, action: (await verifyCallbackResponse(reply.body, h.handlerKeys.publicKey)).action }
    }
    const approved = await send('eth-transfer-signing')
    const held = await send('btc-one-time-address')
    const approvalStage = await send('eth-transfer-approval')
    expect([approved.action, held.action, approvalStage.action]).toEqual(['APPROVE', 'RETRY', 'APPROVE'])
    await h.close()

    const store = `sqlite:${join(h.dir, 'store.db')}`
    const run = async (policy: string) => {
      writeFileSync(join(h.dir, 'candidate.yaml'), policy)
      return runCli(['policy', 'replay', '--candidate', 'candidate.yaml', '--store', store], h.dir)
    }

    const same = await run(TEST_POLICY)
    expect(same).toMatchObject({
      code: 0,
      out: expect.stringMatching(/3 recorded decisions replayed .*: 0 would change/),
    })

    const stricter = await run(
      TEST_POLICY.replace('version: 7', 'version: 8').replace(
        'when: amount_usd <= 10000.0',
        'when: amount_usd <= 1.0',
      ),
    )
    expect(stricter.code).toBe(1)
    expect(stricter.out).toContain(
      `${approved.requestId}  tx_signing  APPROVE (rule small-whitelisted, policy 7) → REJECT (rule default)`,
    )
    expect(stricter.out).not.toContain(held.requestId)
    expect(stricter.out).not.toContain(approvalStage.requestId)
    expect(stricter.out).toMatch(/1 would change/)
  })
})
