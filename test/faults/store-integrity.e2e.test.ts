/**
 * The store's integrity at the handler level (issue 11, item 9), against running handler processes: the
 * SQLite store file deleted or replaced under the handler is noticed (`/readyz` 503, every request RETRY,
 * never an APPROVE that no file keeps), and a decision row edited in the database from REJECT to APPROVE is
 * answered REJECT on retry and reported by `countersign audit verify`.
 */
import { copyFileSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { pgUrl, postgresDatabase, rawExec } from '../support/databases.js'
import {
  postToken,
  readiness,
  signRequest,
  startHandlerProcess,
  stopHandlers,
  waitFor,
} from '../support/handler-process.js'
import { transferOfUsd, writeConfigFolder } from '../handler/support.js'

const folders: string[] = []
afterEach(async () => {
  await stopHandlers()
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})
afterAll(async () => {
  if (pgUrl !== undefined) await postgresDatabase.dropAll()
})

function configFolder(storeUrl: string): string {
  const dir = writeConfigFolder({ storeUrl, logLevel: 'warn' })
  folders.push(dir)
  return dir
}

describe('the SQLite store file', () => {
  it.each([
    ['deleted', (path: string) => rmSync(path)],
    ['deleted with its folder', (path: string) => rmSync(dirname(path), { recursive: true, force: true })],
    [
      'replaced by a copy',
      (path: string) => {
        copyFileSync(path, `${path}.copy`)
        renameSync(`${path}.copy`, path)
      },
    ],
  ])(
    '%s under a running handler: /readyz 503 and RETRY for every request, never an APPROVE',
    async (_, act) => {
      const dir = configFolder('sqlite:decisions.db')
      const handler = await startHandlerProcess(dir)
      const approvedToken = await signRequest(transferOfUsd(100))
      expect((await postToken(handler.url, approvedToken))?.action).toBe('APPROVE')
      expect(await readiness(handler.url)).toBe(200)

      act(join(dir, 'decisions.db'))

      await waitFor(async () => (await readiness(handler.url)) === 503, 5_000, '/readyz 503')
      const fresh = await Promise.all(
        Array.from({ length: 10 }, async () => postToken(handler.url, await signRequest(transferOfUsd(100)))),
      )
      expect(fresh.map((answer) => answer?.action)).toEqual(fresh.map(() => 'RETRY'))
      expect((await postToken(handler.url, approvedToken))?.action).toBe('RETRY')
      expect(await readiness(handler.url)).toBe(503)
      expect(handler.child.exitCode).toBeNull()
    },
  )
})

const DATABASES = [
  { name: 'sqlite', storeUrl: () => Promise.resolve('sqlite:decisions.db') },
  ...(pgUrl === undefined ? [] : [{ name: 'postgres', storeUrl: () => postgresDatabase.freshUrl() }]),
]

describe.each(DATABASES)('a decision row edited in the $name database', ({ storeUrl }) => {
  it('from REJECT to APPROVE is answered REJECT on retry and reported by audit verify', async () => {
    const url = await storeUrl()
    const dir = configFolder(url)
    const handler = await startHandlerProcess(dir)
    const payload = transferOfUsd(20_000) // no rule approves it: the default REJECT
    const token = await signRequest(payload)
    expect((await postToken(handler.url, token))?.action).toBe('REJECT')
    const intact = await runCli(['audit', 'verify', '--config', 'countersign.yaml'], dir)
    expect(intact.code).toBe(0)

    const absolute = url.startsWith('sqlite:') ? `sqlite:${join(dir, url.slice('sqlite:'.length))}` : url
    await rawExec(
      absolute,
      `UPDATE decisions SET action = 'APPROVE', reason = NULL WHERE request_id = '${String(payload.requestId)}'`,
    )

    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await postToken(handler.url, token)
      expect(answer?.action).toBe('REJECT')
      expect(answer?.action === 'REJECT' && answer.rejectionReason).toMatch(/does not match the audit entry/)
    }
    const verify = await runCli(['audit', 'verify', '--config', 'countersign.yaml'], dir)
    expect(verify.code).toBe(1)
    expect(verify.out).toMatch(
      new RegExp(
        `tx request "${String(payload.requestId)}" does not match its audit entry .* \\(the row was altered\\)`,
      ),
    )
  })
})
