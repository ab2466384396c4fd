/**
 * `handler start --workers N` as operators run it, with real processes: the primary serves probes and
 * the summed metrics of every worker on the admin listener, respawns a worker killed with SIGKILL (and
 * says so), reports not ready while one is missing, and gives up on a crash loop with a clear line.
 */
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnCli, type CliProcess } from '../support/process.js'
import { testKeyPair } from '../support/keys.js'
import { freePort } from '../support/ports.js'
import { callbackPath, signCallbackRequest, verifyCallbackResponse } from '../../src/protocol/index.js'
import { transferOfUsd, writeConfigFolder } from './support.js'

const running: CliProcess[] = []
afterEach(() => {
  for (const cli of running.splice(0)) if (cli.child.exitCode === null) cli.child.kill('SIGKILL')
})

function startWorkers(dir: string, count: number): CliProcess {
  const cli = spawnCli(['handler', 'start', '--config', 'countersign.yaml', '--workers', String(count)], dir)
  cli.listening.catch(() => undefined)
  running.push(cli)
  return cli
}

async function approveOne(url: string): Promise<string> {
  const response = await fetch(`${url}${callbackPath('', 'jwt', 'tx')}`, {
    method: 'POST',
    body: await signCallbackRequest(transferOfUsd(100), testKeyPair('cosigner').privateKey),
    signal: AbortSignal.timeout(10_000),
  })
  return (await verifyCallbackResponse(await response.text(), testKeyPair('handler').publicKey)).action
}

/** The decisions counted across every worker, as one scrape of the admin listener reports them. */
async function scrapedDecisions(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text()
  return [...text.matchAll(/^countersign_decisions_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  )
}

async function readyStatus(adminUrl: string): Promise<number> {
  return (await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.status ?? 0
}

/** The PIDs of the workers that logged that they listen. */
function workerPids(cli: CliProcess): number[] {
  return [...cli.output().matchAll(/"pid":(\d+)[^\n]*"msg":"callback handler listening"/g)].map((match) =>
    Number(match[1]),
  )
}

describe('handler --workers', () => {
  it('sums metrics across workers, respawns a killed worker with a log line, and /readyz shows the gap', async () => {
    const dir = writeConfigFolder()
    const adminPort = await freePort()
    appendFileSync(join(dir, 'countersign.yaml'), `\nadmin: { listen: "127.0.0.1:${adminPort}" }\n`)
    const admin = `http://127.0.0.1:${adminPort}`
    const cli = startWorkers(dir, 2)
    const url = await cli.listening
    await expect.poll(() => readyStatus(admin), { timeout: 15_000, interval: 50 }).toBe(200)
    expect(await (await fetch(`${admin}/readyz`)).json()).toMatchObject({ workers: '2/2 listening' })

    // Each on a connection of its own, so both workers take some.
    for (let i = 0; i < 5; i++) expect(await approveOne(url)).toBe('APPROVE')
    for (let scrape = 0; scrape < 4; scrape++) expect(await scrapedDecisions(admin)).toBe(5)
    expect((await fetch(`${url}/metrics`)).status).toBe(404)

    const [victim] = workerPids(cli)
    expect(victim).toBeGreaterThan(0)
    process.kill(victim!, 'SIGKILL')
    await expect
      .poll(() => cli.output(), { timeout: 10_000 })
      .toMatch(
        new RegExp(`worker ${victim} exited unexpectedly \\(killed by SIGKILL\\): respawning it in \\d+ ms`),
      )
    await expect.poll(() => readyStatus(admin), { timeout: 10_000, interval: 20 }).toBe(503)
    await expect.poll(() => readyStatus(admin), { timeout: 15_000, interval: 50 }).toBe(200)
    // The respawned worker's "listening" line reaches our pipe a little after the primary counts it ready.
    await expect.poll(() => workerPids(cli).length, { timeout: 10_000, interval: 20 }).toBe(3)
    expect(await approveOne(url)).toBe('APPROVE')

    cli.child.kill('SIGTERM')
    expect(await cli.exited).toBe(0)
  }, 120_000)

  it('gives up on a crash loop with a line naming it, and exits 1', async () => {
    const cli = startWorkers(writeConfigFolder({ storeUrl: 'sqlite:no/such/folder/cs.db' }), 2)
    expect(await cli.exited).toBe(1)
    const output = cli.output()
    expect(output).toMatch(/the folder .*no\/such\/folder does not exist/)
    expect(output.match(/exited unexpectedly \(exit code \d+\): respawning it in \d+ ms/g)?.length).toBe(4)
    expect(output).toMatch(
      /respawning it in 250 ms[\s\S]*respawning it in 500 ms[\s\S]*respawning it in 1000 ms/,
    )
    expect(output).toMatch(/5 workers in a row crashed before listening or within 10000 ms of it; giving up/)
  }, 120_000)
})
