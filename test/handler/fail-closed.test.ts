/**
 * Faults inside the pipeline never approve: a store that fails, a decision that misses the deadline, a
 * policy that answers IGNORE to a signing request or cannot read the request.
 */
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadTxFixture } from '../../src/testing/index.js'
import { buildServer } from '../../src/handler/index.js'
import { loadPolicyFile, type CompiledPolicy } from '../../src/policy/index.js'
import { callbackPath, signCallbackRequest, verifyCallbackResponse } from '../../src/protocol/index.js'
import { StoreUnavailable, openStore, type Store } from '../../src/storage/index.js'
import { makeTestSetup } from './support.js'

const silent = pino({ level: 'silent' })
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

interface FaultOptions {
  store?: Partial<Store>
  policy?: CompiledPolicy
  deadline?: string
}

/** The real server on a real SQLite store, with parts of the store or the policy replaced by faulty ones. */
async function serverWith(options: FaultOptions) {
  const setup = makeTestSetup(options.deadline ? { decisionDeadline: options.deadline } : {})
  const realStore = await openStore(`sqlite:${setup.dir}/store.db`)
  cleanups.push(() => realStore.close())
  const store = { ...realStore, ...options.store }
  const policy = options.policy ?? loadPolicyFile(setup.config.policyPath)
  const { app } = buildServer({ config: setup.config, policy: () => policy, store, log: silent })
  cleanups.push(() => app.close())
  return { app, setup, realStore }
}

async function answerWith(options: FaultOptions & { payload?: Record<string, unknown> }) {
  const { app, setup, realStore } = await serverWith(options)
  const requestId = randomUUID()
  const payload = options.payload ?? { ...loadTxFixture('eth-transfer-signing'), requestId, txId: requestId }
  const reply = await app.inject({
    method: 'POST',
    url: callbackPath(setup.config.basePath, 'jwt', 'tx'),
    payload: await signCallbackRequest(payload, setup.cosigner.privateKey),
    headers: { 'content-type': 'text/plain' },
  })
  expect(reply.statusCode).toBe(200)
  return {
    response: await verifyCallbackResponse(reply.body, setup.handlerKeys.publicKey),
    store: realStore,
    requestId: payload.requestId,
  }
}

describe('fail closed', () => {
  it('answers RETRY, never APPROVE, when the decision cannot be recorded', async () => {
    const { response } = await answerWith({
      store: { settle: () => Promise.reject(new StoreUnavailable('store write failed')) },
    })
    expect(response.action).toBe('RETRY')
  })

  it('answers RETRY when the decision misses the deadline', async () => {
    const { response } = await answerWith({
      store: { settle: () => new Promise(() => undefined) },
      deadline: '100ms',
    })
    expect(response.action).toBe('RETRY')
  })

  it('turns a policy IGNORE on a signing request into a recorded REJECT', async () => {
    const ignoring: CompiledPolicy = {
      version: 'test',
      digest: 'test',
      ruleIds: { guards: [], tx_approval: [], tx_signing: [], config_change: [] },
      velocityProbes: () => [],
      evaluate: () =>
        ({
          action: 'IGNORE',
          reason: 'ignored',
          ruleId: 'ignore-all',
          trace: { guards: [], rules: [] },
        }) as never,
    }
    const { response, store, requestId } = await answerWith({ policy: ignoring })
    expect(response).toMatchObject({ action: 'REJECT', rejectionReason: expect.stringMatching(/IGNORE/) })
    expect((await store.listDecisions(0)).find((decision) => decision.requestId === requestId)?.action).toBe(
      'REJECT',
    )
  })

  it('rejects when the policy cannot read the request', async () => {
    const unreadable: CompiledPolicy = {
      version: 'test',
      digest: 'test',
      ruleIds: { guards: [], tx_approval: [], tx_signing: [], config_change: [] },
      velocityProbes: () => {
        throw new Error('group_by field source.id is missing')
      },
      evaluate: () => {
        throw new Error('must not be reached')
      },
    }
    const { response } = await answerWith({ policy: unreadable })
    expect(response).toMatchObject({
      action: 'REJECT',
      rejectionReason: expect.stringMatching(/could not read/),
    })
  })

  it('reports not ready (503) while the store does not answer', async () => {
    const { app } = await serverWith({ store: { ping: () => Promise.reject(new StoreUnavailable('down')) } })
    const reply = await app.inject({ method: 'GET', url: '/readyz' })
    expect(reply.statusCode).toBe(503)
    expect(reply.json()).toEqual({ status: 'not ready', policy: '7', store: false })
  })
})
