/**
 * The workspace console in a real browser: Debian's Chromium driven by playwright-core, with a virtual
 * WebAuthn authenticator per person (Chrome DevTools Protocol). The whole workspace runs as in
 * test/hub/workspace.ts (hub in-process with its console on the admin listener; cloud co-signers and the
 * customer co-signer as child processes from dist: run `npm run build` first). Screenshots go to docs/console/.
 */
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCsr, generateRsaKeyPair } from '../../src/keys/index.js'
import { readAudit, readWorkspaceKeys } from '../../src/storage/index.js'
import { browserTestsRun, launchChromium, passkeyProfile, SCREENSHOTS } from '../support/browser.js'
import { spawnCli } from '../support/process.js'
import { createRaw, digestOf, startWorkspace, until, type ApiUser, type Workspace } from '../hub/workspace.js'

/** What the page's functions use of the browser (the project's TypeScript has no DOM library). */
interface PageGlobals {
  document: { querySelector(selector: string): { content: string } }
}

/** Posts JSON to the console from the page, as its script does, with the page's CSRF token. */
function postJson(page: Page, path: string, body: unknown) {
  return page.evaluate(
    async ({ path, body }) => {
      const csrf = (globalThis as unknown as PageGlobals).document.querySelector(
        'meta[name="csrf-token"]',
      ).content
      const response = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify(body),
      })
      return { status: response.status, body: await response.text() }
    },
    { path, body },
  )
}

/** Posts a form to the console from the page, as a browser would, with or without the page's CSRF token. */
function postForm(page: Page, path: string, fields: Record<string, string>, withCsrf = true) {
  return page.evaluate(
    async ({ path, fields, withCsrf }) => {
      const csrf = (globalThis as unknown as PageGlobals).document.querySelector(
        'meta[name="csrf-token"]',
      ).content
      const body = new URLSearchParams({ ...fields, ...(withCsrf ? { _csrf: csrf } : {}) })
      const response = await fetch(path, { method: 'POST', body })
      return { status: response.status, body: await response.text() }
    },
    { path, fields, withCsrf },
  )
}

describe.runIf(browserTestsRun('the workspace console'))('the workspace console in Chromium', () => {
  let workspace: Workspace
  let browser: Browser
  let origin: string
  let owner: Page
  let signer: ApiUser
  let csrPem: string

  beforeAll(async () => {
    workspace = await startWorkspace({ console: true })
    origin = new URL(workspace.hub.consoleUrl as string).origin
    browser = await launchChromium()
    const pair = await generateRsaKeyPair(2048)
    csrPem = createCsr(pair.privateKey, '/CN=desk-signer')
    signer = { id: '', privateKey: pair.privateKey, privateKeyPem: pair.privateKeyPem }
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await workspace?.close()
  })

  /** `countersign hub console-link` for `user` in `role`: the enrolment link it prints. */
  async function consoleLink(user: string, role: string, more: readonly string[] = []): Promise<string> {
    const args = [
      'hub',
      'console-link',
      '--config',
      workspace.configPath,
      '--user',
      user,
      '--role',
      role,
      ...more,
    ]
    const cli = spawnCli(args, workspace.dir)
    expect(await cli.exited).toBe(0)
    const link = /http:\/\/\S+\/console\/enrol#token=\S+/.exec(cli.output())?.[0]
    if (link === undefined) throw new Error(`no enrolment link in:\n${cli.output()}`)
    return link
  }

  async function enrol(page: Page, link: string) {
    await page.goto(link)
    await page.getByRole('button', { name: 'Create a passkey' }).click()
    await page.waitForURL(`${origin}/console/`)
  }

  it('an Owner enrols from the CLI link, creates a Signer from a CSR, pairs its co-signer and follows a transaction to COMPLETED', async () => {
    ;({ page: owner } = await passkeyProfile(browser, { width: 1100, timeoutMs: 120_000 }))
    await enrol(owner, await consoleLink('olivia', 'OWNER'))
    expect(await owner.locator('header').textContent()).toContain('olivia')

    await owner.goto(`${origin}/console/api-users`)
    await owner.getByLabel('Name').fill('desk-signer')
    await owner.getByLabel('Role').selectOption('SIGNER')
    await owner.getByLabel('CSR file (PEM)').setInputFiles({
      name: 'desk-signer.csr',
      mimeType: 'application/x-pem-file',
      buffer: Buffer.from(csrPem),
    })
    await until('the CSR read from the file', async () =>
      (await owner.getByLabel('or the CSR pasted (PEM)').inputValue()).includes('CERTIFICATE REQUEST')
        ? true
        : undefined,
    )
    await owner.getByRole('button', { name: 'Create', exact: true }).click()
    const notice = (await owner.locator('#notice').textContent()) ?? ''
    const apiKey = /its API key is ([0-9a-f-]{36})/.exec(notice)?.[1]
    expect(apiKey).toBeDefined()
    signer = { ...signer, id: apiKey as string }
    await owner.screenshot({ path: join(SCREENSHOTS, 'hub-api-users.png'), fullPage: true })

    await owner.locator('button[data-pair="desk-signer"]').click()
    const token = ((await owner.locator('#pairing-token').textContent()) ?? '').trim()
    expect(token.length).toBeGreaterThan(20)
    const cosignerDir = join(workspace.dir, 'desk')
    const paired = spawnCli(
      ['cosigner', 'pair', '--hub', workspace.url, '--dir', cosignerDir, '--name', 'desk'],
      workspace.dir,
      {
        COUNTERSIGN_PAIRING_TOKEN: token,
      },
    )
    expect(await paired.exited, paired.output()).toBe(0)
    workspace.restartCosigner('desk')

    await owner.getByRole('link', { name: 'Watch the co-signer pair' }).click()
    const row = owner.locator('tr[data-cosigner="desk-signer"]')
    await row.locator('.pairing', { hasText: /^paired$/ }).waitFor() // live, through server-sent events
    await row.locator('.availability', { hasText: /^available$/ }).waitFor()
    await owner.screenshot({ path: join(SCREENSHOTS, 'hub-cosigners.png'), fullPage: true })

    await until(
      'the key sets of the co-signer',
      async () => ((await workspace.hub.hub.db.read(readWorkspaceKeys)).length === 2 ? true : undefined),
      240_000,
    )
    const fireblocks = workspace.sdk(workspace.owner)
    await fireblocks.vaults.createVaultAccount({
      createVaultAccountRequest: { name: 'treasury', hiddenOnUI: false, autoFuel: false },
    })
    await fireblocks.vaults.createVaultAccountAsset({ vaultAccountId: '0', assetId: 'ETH_TEST6' })
    const txId = await createRaw(workspace.sdk(signer), digestOf('the workspace console'))

    await owner.goto(`${origin}/console/transactions/${txId}`)
    await owner.locator('#tx-status', { hasText: /^COMPLETED$/ }).waitFor({ timeout: 240_000 })
    expect(await owner.locator('#tx-signer').textContent()).toBe(signer.id)
    const timeline = (await owner.locator('.timeline').textContent()) ?? ''
    expect(timeline).toContain('SUBMITTED')
    expect(timeline).toContain('COMPLETED')
    await owner.screenshot({ path: join(SCREENSHOTS, 'hub-transaction.png'), fullPage: true })

    for (const [path, file] of [
      ['/', 'hub-overview.png'],
      ['/vaults', 'hub-vaults.png'],
      ['/transactions', 'hub-transactions.png'],
      ['/policy', 'hub-policy.png'],
    ] as const) {
      await owner.goto(`${origin}/console${path}`)
      await owner.screenshot({ path: join(SCREENSHOTS, file), fullPage: true })
    }
    expect(await owner.locator('main').textContent()).toContain(txId.slice(0, 8))
  }, 600_000)

  it('refuses a Viewer the creation of API users and pairing tokens, calls without CSRF token or session; audits it all', async () => {
    const { page: viewer } = await passkeyProfile(browser, { width: 1100, timeoutMs: 120_000 })
    await enrol(viewer, await consoleLink('victor', 'VIEWER'))
    await viewer.goto(`${origin}/console/api-users`)
    expect(await viewer.getByRole('heading', { name: 'Create an API user' }).count()).toBe(0)
    const created = await postForm(viewer, '/console/api-users', { name: 'sneaky', role: 'SIGNER', csrPem })
    expect(created.status).toBe(403)
    const token = await postForm(viewer, `/console/api-users/${signer.id}/pairing-token`, {})
    expect(token.status).toBe(403)
    expect(token.body).not.toContain('pairing-token"')

    await owner.goto(`${origin}/console/api-users`)
    const noCsrf = await postForm(
      owner,
      '/console/api-users',
      { name: 'no-csrf', role: 'VIEWER', csrPem },
      false,
    )
    expect(noCsrf.status).toBe(403)
    const direct = origin.replace('localhost', '127.0.0.1')
    const noSession = await request(`${direct}/console/api-users`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'anonymous', role: 'VIEWER', csrPem }).toString(),
    })
    await noSession.body.text()
    expect(noSession.statusCode).toBe(401)
    const noSessionPage = await request(`${direct}/console/transactions`)
    await noSessionPage.body.text()
    expect(noSessionPage.statusCode).toBe(303) // a page without a session goes to sign-in
    const users = (await workspace.sdk(workspace.owner).apiUser.getApiUsers()).data.users ?? []
    expect(users.map((user) => user.name)).not.toContain('sneaky')

    const actions: Record<string, unknown>[] = []
    for await (const entry of readAudit((work) => workspace.hub.hub.db.read(work)))
      if (entry.event === 'console-action') actions.push(entry.body)
    expect(actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          principal: 'olivia',
          role: 'OWNER',
          action: 'create-api-user',
          outcome: 'done',
        }),
        expect.objectContaining({ principal: 'olivia', action: 'issue-pairing-token', outcome: 'done' }),
        expect.objectContaining({
          principal: 'victor',
          role: 'VIEWER',
          action: 'create-api-user',
          outcome: 'refused',
        }),
        expect.objectContaining({ principal: 'victor', action: 'issue-pairing-token', outcome: 'refused' }),
      ]),
    )
    expect(JSON.stringify(actions)).not.toContain('pairingToken')
  }, 300_000)

  it('an Admin bound to an ADMIN API user approves a policy draft with a passkey: it counts as that API user, and publishes', async () => {
    const admin = await workspace.createApiUser('policy admin', 'ADMIN')
    const governance = workspace.hub.hub.governance
    const active = await governance.activeRecord()
    const text = (active?.text ?? '').replace(/^version: .*$/m, 'version: 2')
    const proposed = (await (
      await workspace.call(workspace.owner, 'PUT', '/v1/tap/draft', { policy: text })
    ).json()) as {
      draftResponse: { draftId: string }
    }
    const { draftId } = proposed.draftResponse
    expect((await workspace.call(workspace.owner, 'POST', '/v1/tap/draft', { draftId })).status).toBe(201)
    expect((await governance.draft(draftId))?.state).toBe('awaiting_quorum')

    const refusedOwner = await postJson(owner, `/console/policy/drafts/${draftId}/vote/options`, {
      decision: 'approve',
      reason: '',
    })
    expect(refusedOwner.status).toBe(403) // a console Owner bound to no API user casts no policy vote

    const { page } = await passkeyProfile(browser, { width: 1100, timeoutMs: 120_000 })
    await enrol(page, await consoleLink('ada', 'ADMIN', ['--api-user', admin.id]))
    await page.goto(`${origin}/console/policy`)
    await page.getByRole('link', { name: `Draft ${draftId}` }).click()
    await page.getByLabel('Reason').fill('reviewed the diff')
    await page.screenshot({ path: join(SCREENSHOTS, 'hub-policy-draft.png'), fullPage: true })
    await page.getByRole('button', { name: 'Approve with passkey' }).click()
    await page.getByText('verified and recorded').waitFor()
    expect(await page.locator('#status').textContent()).toContain('published')
    expect((await governance.activeRecord())?.draftId).toBe(draftId)
    const votes = (await governance.draft(draftId))?.votes ?? []
    expect(votes.map((vote) => [vote.userId, vote.role, vote.vote])).toContainEqual([
      admin.id,
      'ADMIN',
      'approve',
    ])

    const actions: Record<string, unknown>[] = []
    for await (const entry of readAudit((work) => workspace.hub.hub.db.read(work)))
      if (entry.event === 'console-action') actions.push(entry.body)
    expect(actions).toContainEqual(
      expect.objectContaining({
        principal: 'ada',
        action: 'approve-policy-draft',
        apiUserId: admin.id,
        draftId,
        outcome: 'done',
        reason: 'reviewed the diff',
      }),
    )
  }, 300_000)
})
