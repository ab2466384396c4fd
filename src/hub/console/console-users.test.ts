/**
 * Who may use the workspace console: `countersign hub console-link`'s work (a console user in a role, audited,
 * and a single-use enrolment link), hub.yaml's `console:` (served on the admin listener only), and which
 * roles may create which API users (the REST API's rule, which the console applies too).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../core/index.js'
import { consoleUser } from './console-users.js'
import { loadHubConfig, type HubConfig } from '../config.js'
import { openHubStore } from '../hub.js'
import { initWorkspace } from '../init.js'
import { consoleLinkFromStore } from '../service.js'
import { ConsoleUserInvalid } from './console-users.js'
import { mayCreateApiUser } from '../rest/api-users.js'
import { ROLES } from '../rest/roles.js'
import { consoleStore, readAudit } from '../../storage/index.js'

const ORIGIN = 'http://localhost:9091'

describe('workspace console users', () => {
  let dir: string
  let configPath: string
  let config: HubConfig
  let ownerApiKey: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-hub-console-'))
    const init = await initWorkspace({ dir, listen: '127.0.0.1:18443' })
    configPath = init.configPath
    ownerApiKey = init.ownerApiKey
    config = loadHubConfig(configPath, {})
  })

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const link = (name: string, role: string) =>
    consoleLinkFromStore(config, { name, role, origin: ORIGIN, ttlMs: 60_000 }, systemClock)

  it('adds a user in a role with a single-use link, gives an existing user a new role, audits both', async () => {
    const first = await link('olivia', 'ADMIN')
    expect(first).toMatch(/^http:\/\/localhost:9091\/console\/enrol#token=[\w-]{43}$/)
    const second = await link('olivia', 'VIEWER')
    expect(second).not.toBe(first)
    const db = await openHubStore(config.storeUrl, systemClock)
    try {
      expect(await consoleUser(db, 'olivia')).toEqual({ name: 'olivia', role: 'VIEWER', apiUserId: null })
      expect(await consoleUser(db, 'nobody')).toBeUndefined()
      const token = new URL(first).hash.replace('#token=', '')
      expect(await consoleStore(db, systemClock).enrolmentPrincipal(token)).toBe('olivia')
      const events: { event: string; body: Record<string, unknown> }[] = []
      for await (const entry of readAudit((work) => db.read(work))) events.push(entry)
      expect(events.filter((entry) => entry.event === 'console-user-set').map((entry) => entry.body)).toEqual(
        [
          { principal: 'olivia', role: 'ADMIN', apiUserId: null },
          { principal: 'olivia', role: 'VIEWER', apiUserId: null },
        ],
      )
      expect(JSON.stringify(events)).not.toContain(token)
    } finally {
      await db.close()
    }
  })

  it('refuses an unknown role and a name that is not a plain identifier', async () => {
    await expect(link('mallory', 'ROOT')).rejects.toBeInstanceOf(ConsoleUserInvalid)
    await expect(link('<script>', 'VIEWER')).rejects.toBeInstanceOf(ConsoleUserInvalid)
    await expect(link('', 'VIEWER')).rejects.toBeInstanceOf(ConsoleUserInvalid)
  })

  it('binds a person to an OWNER or ADMIN API user of their own role only, for policy votes', async () => {
    const bind = (role: string, apiUserId: string) =>
      consoleLinkFromStore(
        config,
        { name: 'oscar', role, origin: ORIGIN, ttlMs: 60_000, apiUserId },
        systemClock,
      )
    await expect(bind('OWNER', 'no-such-api-user')).rejects.toThrow(/enabled OWNER or ADMIN API user/)
    await expect(bind('ADMIN', ownerApiKey)).rejects.toThrow(/is a OWNER: give the console user that role/)
    await bind('OWNER', ownerApiKey)
    const db = await openHubStore(config.storeUrl, systemClock)
    try {
      expect(await consoleUser(db, 'oscar')).toEqual({ name: 'oscar', role: 'OWNER', apiUserId: ownerApiKey })
    } finally {
      await db.close()
    }
  })

  it('serves the console only with an admin listener, on an https or loopback origin', () => {
    appendFileSync(configPath, `console:\n  origin: ${ORIGIN}\n`)
    expect(() => loadHubConfig(configPath, {})).toThrow(/console.*admin listener/s)
    appendFileSync(configPath, 'admin:\n  listen: 127.0.0.1:9091\n')
    expect(loadHubConfig(configPath, {}).console).toEqual({
      origin: ORIGIN,
      rpId: 'localhost',
      sessionTtlMs: 8 * 3_600_000,
    })
  })
})

describe('who may create which API user (the REST API and the console alike)', () => {
  it('admits admins only, and a signing API user only from an Owner or an Admin', () => {
    const allowed = ROLES.flatMap((creator) =>
      ['SIGNER', 'ADMIN', 'VIEWER']
        .filter((role) => mayCreateApiUser(creator, role))
        .map((role) => `${creator}→${role}`),
    )
    expect(allowed).toEqual([
      'OWNER→SIGNER',
      'OWNER→ADMIN',
      'OWNER→VIEWER',
      'ADMIN→SIGNER',
      'ADMIN→ADMIN',
      'ADMIN→VIEWER',
      'NON_SIGNING_ADMIN→VIEWER',
    ])
  })
})
