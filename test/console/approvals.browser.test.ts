/**
 * The approvals console in a real browser: Debian's Chromium driven by playwright-core, with a virtual
 * WebAuthn authenticator per approver (Chrome DevTools Protocol). The handler runs in-process with its
 * admin listener and console; a co-signer simulator (the callback client `countersign simulate` runs)
 * waits on each held request. Screenshots of the main pages go to docs/console/.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import type { Browser, Page } from 'playwright-core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callHandler, loadCallbackKeys, type CallOutcome } from '../../src/callback-client/index.js'
import { compileConfig, startHandler, type RunningHandler } from '../../src/handler/index.js'
import { loadTxFixture } from '../../src/testing/index.js'
import { registerApprover } from '../support/approvers.js'
import { browserTestsRun, launchChromium, passkeyProfile, SCREENSHOTS } from '../support/browser.js'
import { freePort } from '../support/ports.js'
import { SIGNER_ID, makeTestSetup } from '../handler/support.js'

const POLICY = `
version: 1
timezone: UTC
defaults: { tx_approval: IGNORE, tx_signing: REJECT, config_change: REJECT }
tx_signing:
  - id: one-time-hold
    match: { dest.address_type: ONE_TIME }
    require: { quorum: 1, approvers: [alice, bob], ttl: 50m }
    reason: one-time address, held for an approver
`

/** What the page's functions use of the browser (the project's TypeScript has no DOM library). */
interface PageGlobals {
  document: { querySelector(selector: string): { content: string } }
  SimpleWebAuthnBrowser: {
    startAuthentication(options: unknown): Promise<{ response: { signature: string } }>
  }
}

describe.runIf(browserTestsRun('the approvals console'))('the approvals console in Chromium', () => {
  let handler: RunningHandler
  let browser: Browser
  let dir: string
  let origin: string
  let simulate: (requestId: string) => Promise<CallOutcome>

  beforeAll(async () => {
    const setup = makeTestSetup({ policy: POLICY })
    dir = setup.dir
    const port = await freePort()
    origin = `http://localhost:${port}`
    const config = compileConfig(
      {
        listen: '127.0.0.1:0',
        basePath: setup.config.basePath,
        admin: { listen: `127.0.0.1:${port}` },
        console: { origin },
        cosigners: [{ name: 'test-cosigner', publicKey: setup.cosigner.publicPem }],
        apiUsers: [
          { signerId: SIGNER_ID, authMode: 'jwt', handlerKey: setup.handlerKeys.privatePem, default: true },
        ],
        policy: 'policy.yaml',
        store: 'sqlite:store.db',
      },
      dir,
      {},
    )
    handler = await startHandler(config, { log: pino({ level: 'silent' }) })
    for (const name of ['alice', 'bob', 'carol']) await registerApprover(handler.store, name)
    writeFileSync(join(dir, 'cosigner.key'), setup.cosigner.privatePem)
    writeFileSync(join(dir, 'handler.pub'), setup.handlerKeys.publicPem)
    const keys = await loadCallbackKeys({
      cosignerKeyPath: join(dir, 'cosigner.key'),
      handlerPublicKeyPath: join(dir, 'handler.pub'),
    })
    simulate = async (requestId) => {
      const payload = { ...loadTxFixture('btc-one-time-address'), requestId, txId: requestId }
      const { outcome } = await callHandler({
        url: `${handler.url}${setup.config.basePath}`,
        route: 'tx',
        payload,
        mode: 'jwt',
        ...keys,
        timeoutMs: 30_000,
        retry: { intervalMs: 500, maxRetries: 600 },
      })
      return outcome
    }
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await handler?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function enrol(page: Page, name: string) {
    const token = randomUUID() + randomUUID()
    await handler.store.console.issueEnrolment(name, token, 60_000)
    await page.goto(`${origin}/console/enrol#token=${token}`)
    await page.getByRole('button', { name: 'Create a passkey' }).click()
    await page.waitForURL(`${origin}/console/`)
  }

  /** Enrols `approver` in `page`, has the simulator send a request the rule holds, and opens it there. */
  async function openNewHold(page: Page, approver: string) {
    await enrol(page, approver)
    const requestId = randomUUID()
    const outcome = simulate(requestId)
    await page.locator(`[data-request-id="${requestId}"]`).getByRole('link').click()
    return { requestId, outcome }
  }

  /** Calls the console from the page, as its script does, with or without the page's CSRF token. */
  function callFromPage(page: Page, path: string, body: unknown, withCsrf = true) {
    return page.evaluate(
      async ({ path, body, withCsrf }) => {
        const csrf = (globalThis as unknown as PageGlobals).document.querySelector(
          'meta[name="csrf-token"]',
        ).content
        const response = await fetch(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(withCsrf ? { 'x-csrf-token': csrf } : {}) },
          body: JSON.stringify(body),
        })
        return { status: response.status, body: await response.text() }
      },
      { path, body, withCsrf },
    )
  }

  it('enrols an approver, shows a hold live, and approves it with the passkey: the simulator gets APPROVE', async () => {
    const { page } = await passkeyProfile(browser, { width: 1000, timeoutMs: 60_000 })
    await enrol(page, 'alice')
    await page.getByText('No request is awaiting approval.').waitFor()
    const requestId = randomUUID()
    const outcome = simulate(requestId)
    const card = page.locator(`[data-request-id="${requestId}"]`)
    await card.waitFor() // arrives through server-sent events, without a reload
    expect(await card.textContent()).toContain('one-time address (not whitelisted)')
    await page.screenshot({ path: join(SCREENSHOTS, 'pending.png'), fullPage: true })
    await card.getByRole('link').click()
    await page.getByRole('heading', { name: 'Your decision' }).waitFor()
    await page.getByLabel('Reason (required to reject)').fill('known counterparty, checked by phone')
    await page.screenshot({ path: join(SCREENSHOTS, 'request.png'), fullPage: true })
    await page.getByRole('button', { name: 'Approve with passkey' }).click()
    await page.getByText('verified and recorded').waitFor()
    expect(await outcome).toEqual({ type: 'decided', action: 'APPROVE' })
    await page.reload()
    expect(await page.locator('table').textContent()).toContain('passkey (console)')
    await page.goto(`${origin}/console/decisions?field=requestId&q=${requestId}`)
    expect(await page.locator('.audit').textContent()).toContain('intact')
    await page.screenshot({ path: join(SCREENSHOTS, 'decisions.png'), fullPage: true })
  }, 180_000)

  it('a second approver rejects another request, with a reason the co-signer receives', async () => {
    const { page } = await passkeyProfile(browser, { width: 1000, timeoutMs: 60_000 })
    const { outcome } = await openNewHold(page, 'bob')
    await page.getByLabel('Reason (required to reject)').fill('destination unknown to us')
    await page.getByRole('button', { name: 'Reject with passkey' }).click()
    await page.getByText('verified and recorded').waitFor()
    expect(await outcome).toMatchObject({ type: 'decided', action: 'REJECT' })
    expect((await outcome) as { rejectionReason?: string }).toHaveProperty('rejectionReason')
    expect(String(((await outcome) as { rejectionReason?: string }).rejectionReason)).toContain(
      'destination unknown to us',
    )
  }, 180_000)

  it('refuses a vote from an approver the rule does not name (the server, not just the page)', async () => {
    const { page } = await passkeyProfile(browser, { width: 1000, timeoutMs: 60_000 })
    const { requestId } = await openNewHold(page, 'carol')
    await page.getByText('its rule does not name you as an approver').waitFor()
    expect(await page.getByRole('button', { name: 'Approve with passkey' }).count()).toBe(0)
    const path = `/console/requests/tx/${requestId}/vote/options`
    const refused = await callFromPage(page, path, { decision: 'approve', reason: '' })
    expect(refused.status).toBe(403)
    expect(refused.body).toContain('carol is not an approver of rule one-time-hold')
  }, 180_000)

  it('refuses a forged assertion and a replayed one; refuses calls without CSRF token or session', async () => {
    const { page } = await passkeyProfile(browser, { width: 1000, timeoutMs: 60_000 })
    const { requestId } = await openNewHold(page, 'bob')
    await page.getByRole('heading', { name: 'Your decision' }).waitFor()
    const votePath = `/console/requests/tx/${requestId}/vote`
    const results = await page.evaluate(async (votePath) => {
      const page = globalThis as unknown as PageGlobals
      const csrf = page.document.querySelector('meta[name="csrf-token"]').content
      const post = async (path: string, body: unknown) => {
        const response = await fetch(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify(body),
        })
        return { status: response.status, body: await response.text() }
      }
      const sign = async () => {
        const started = JSON.parse(
          (await post(`${votePath}/options`, { decision: 'approve', reason: 'ok' })).body,
        )
        const response = await page.SimpleWebAuthnBrowser.startAuthentication({
          optionsJSON: started.options,
        })
        return { challengeId: started.challengeId, response }
      }
      const forged = await sign()
      const bytes = forged.response.response.signature
      forged.response.response.signature = (bytes[0] === 'A' ? 'B' : 'A') + bytes.slice(1)
      const forgedResult = await post(votePath, forged)
      const genuine = await sign()
      const genuineResult = await post(votePath, genuine)
      const replayResult = await post(votePath, genuine)
      return { forgedResult, genuineResult, replayResult }
    }, votePath)
    expect(results.forgedResult.status).toBe(403)
    expect(results.genuineResult.status).toBe(200)
    expect(results.replayResult.status).toBe(403)

    const noCsrf = await callFromPage(page, `${votePath}/options`, { decision: 'approve' }, false)
    expect(noCsrf.status).toBe(403)
    const noSession = await request(`${origin.replace('localhost', '127.0.0.1')}${votePath}/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve' }),
    })
    await noSession.body.text()
    expect(noSession.statusCode).toBe(401)
    const page404 = await request(`${origin.replace('localhost', '127.0.0.1')}/console/`)
    await page404.body.text()
    expect(page404.statusCode).toBe(303) // a page without a session goes to sign-in
  }, 180_000)

  it('signs in again with the enrolled passkey', async () => {
    const { context, page } = await passkeyProfile(browser, { width: 1000, timeoutMs: 60_000 })
    await enrol(page, 'alice')
    await context.clearCookies()
    await page.goto(`${origin}/console/`)
    await page.waitForURL(`${origin}/console/sign-in`)
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in.png'), fullPage: true })
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    await page.waitForURL(`${origin}/console/`)
    expect(await page.locator('header').textContent()).toContain('alice')
  }, 180_000)
})
