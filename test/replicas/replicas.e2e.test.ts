/**
 * The proofs of issue 7: several handler processes on one PostgreSQL database keep every guarantee.
 * Under CI=true these run (and fail if PostgreSQL is missing); locally they need COUNTERSIGN_TEST_PG_URL.
 */
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import { pgUrl, postgresDatabase } from '../support/databases.js'
import { testKeyPair } from '../support/keys.js'
import { spawnCli, type CliProcess } from '../support/process.js'
import { transferOfUsd, writeConfigFolder } from '../handler/support.js'
import {
  callbackPath,
  signCallbackRequest,
  verifyCallbackResponse,
  type CallbackResponse,
} from '../../src/protocol/index.js'
import { openStore } from '../../src/storage/index.js'

const cosigner = testKeyPair('cosigner')
const handlerKeys = testKeyPair('handler')
const replicas: CliProcess[] = []
const pools: Pool[] = []
afterEach(async () => {
  for (const replica of replicas.splice(0)) replica.child.kill('SIGKILL')
  for (const pool of pools.splice(0)) await pool.destroy()
})

afterAll(() => postgresDatabase.dropAll())

async function startReplicas(
  count: number,
): Promise<{ urls: string[]; storeUrl: string; processes: CliProcess[] }> {
  const storeUrl = await postgresDatabase.freshUrl()
  const dir = writeConfigFolder({ storeUrl, logLevel: 'warn' })
  const processes = Array.from({ length: count }, () =>
    spawnCli(['handler', 'start', '--config', join(dir, 'countersign.yaml')], dir),
  )
  replicas.push(...processes)
  return { urls: await Promise.all(processes.map((process) => process.listening)), storeUrl, processes }
}

/** Posts a pre-signed token to one replica through a keep-alive pool; `undefined` when no answer came. */
async function post(url: string, token: string): Promise<CallbackResponse | undefined> {
  let pool = pools.find((candidate) => (candidate as unknown as { url: string }).url === url)
  if (!pool) {
    pool = Object.assign(new Pool(url, { connections: 32 }), { url })
    pools.push(pool)
  }
  try {
    const response = await pool.request({ method: 'POST', path: callbackPath('', 'jwt', 'tx'), body: token })
    const body = await response.body.text()
    return response.statusCode === 200 ? await verifyCallbackResponse(body, handlerKeys.publicKey) : undefined
  } catch {
    return undefined
  }
}

describe.skipIf(pgUrl === undefined)('replicas on one PostgreSQL database', () => {
  it('decides a requestId delivered to two replicas at the same moment exactly once, with identical answers', async () => {
    const { urls, storeUrl } = await startReplicas(2)
    const payloads = Array.from({ length: 25 }, () => transferOfUsd(100))
    for (const payload of payloads) {
      const token = await signCallbackRequest(payload, cosigner.privateKey)
      const [a, b] = await Promise.all([post(urls[0]!, token), post(urls[1]!, token)])
      expect(a).toBeDefined()
      expect(b).toEqual(a)
    }
    const store = await openStore(storeUrl)
    try {
      const decisions = await store.listDecisions(0)
      expect(decisions).toHaveLength(payloads.length)
      expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: payloads.length })
    } finally {
      await store.close()
    }
  })

  it('approves exactly 50 of 200 concurrent 1,000 USD requests spread over two replicas against a 50,000 USD window', async () => {
    const { urls } = await startReplicas(2)
    const tokens = await Promise.all(
      Array.from({ length: 200 }, () => signCallbackRequest(transferOfUsd(1_000), cosigner.privateKey)),
    )
    const answers = await Promise.all(tokens.map((token, index) => post(urls[index % 2]!, token)))
    expect(answers.every((answer) => answer !== undefined)).toBe(true)
    expect(answers.filter((answer) => answer!.action === 'APPROVE')).toHaveLength(50)
    expect(answers.filter((answer) => answer!.action === 'REJECT')).toHaveLength(150)
  })

  it('loses nothing when a replica is killed with SIGKILL in the middle of a load', async () => {
    const { urls, storeUrl, processes } = await startReplicas(2)
    const payloads = Array.from({ length: 300 }, () => transferOfUsd(10))
    const tokens = await Promise.all(
      payloads.map((payload) => signCallbackRequest(payload, cosigner.privateKey)),
    )
    let answered = 0
    const load = Promise.all(
      tokens.map(async (token, index) => {
        const answer = await post(urls[index % 2]!, token)
        answered++
        if (answered === 60) processes[0]!.child.kill('SIGKILL')
        return answer
      }),
    )
    const before = await load
    expect(before.filter((answer) => answer === undefined).length).toBeGreaterThan(0) // the kill did cut requests

    const store = await openStore(storeUrl)
    try {
      const recorded = new Map(
        (await store.listDecisions(0)).map((decision) => [decision.requestId, decision.action]),
      )
      before.forEach((answer, index) => {
        if (answer?.action === 'APPROVE')
          expect(recorded.get(String(payloads[index]!.requestId))).toBe('APPROVE')
      })
      expect(await store.verifyAudit()).toMatchObject({ ok: true })
    } finally {
      await store.close()
    }

    const after = await Promise.all(tokens.map((token) => post(urls[1]!, token)))
    after.forEach((answer, index) => {
      expect(answer).toBeDefined()
      if (before[index] !== undefined) expect(answer).toEqual(before[index])
    })
  })
})
