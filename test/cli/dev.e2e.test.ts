/**
 * `countersign dev` as a developer runs it: the built command in a fresh folder (on free ports) starts the
 * hub, both cloud co-signers, both co-signers and the callback handler (a first start cut short begins
 * again), and prints a banner; then
 * `countersign dev demo` (another process) runs the minimal flow and verifies every signature, the official
 * `@fireblocks/ts-sdk` signs with the printed API key, SIGTERM stops it all, and a second start reuses the
 * folder.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { Fireblocks, TransactionStateEnum } from '@fireblocks/ts-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnCli as spawnProcess, type CliProcess } from '../support/process.js'
import { transactionIn, until } from '../hub/workspace.js'
import { freePort } from '../support/ports.js'
import { ecdsaSignerAddress, ecdsaVerifies } from '../support/signatures.js'

interface Banner {
  readonly baseUrl: string
  readonly apiKey: string
  readonly privateKey: string
  readonly ethAddress: string
  readonly text: string
}

let cwd: string
let ports: { hub: number; handler: number; admin: number; hubAdmin: number }
let dev: CliProcess | undefined

/** Every process a test starts, killed after the file whatever happened (a failed test leaves none). */
const spawned: CliProcess[] = []
function spawnCli(args: readonly string[], dir: string): CliProcess {
  const child = spawnProcess(args, dir)
  spawned.push(child)
  return child
}

function startDev(): CliProcess {
  const args = [
    'dev',
    '--hub-listen',
    `127.0.0.1:${ports.hub}`,
    '--handler-listen',
    `127.0.0.1:${ports.handler}`,
    '--handler-admin-listen',
    `127.0.0.1:${ports.admin}`,
    '--hub-admin-listen',
    `127.0.0.1:${ports.hubAdmin}`,
  ]
  return spawnCli(args, cwd)
}

/** The banner's facts, once it is printed (the first start generates the workspace's keys). */
async function bannerOf(child: CliProcess): Promise<Banner> {
  const text = await until(
    'the banner of countersign dev',
    async () => {
      const output = child.output()
      if (child.child.exitCode !== null) throw new Error(`countersign dev exited:\n${output}`)
      return /countersign dev demo\n/.test(output) ? output : undefined
    },
    300_000,
  )
  const field = (pattern: RegExp) => {
    const value = pattern.exec(text)?.[1]
    if (value === undefined) throw new Error(`no ${String(pattern)} in:\n${text}`)
    return value
  }
  return {
    baseUrl: field(/^ {2}hub \(Fireblocks API\) +(\S+)$/m),
    apiKey: field(/^ {2}API key +(\S+) \(API user signer-a, role SIGNER\)$/m),
    privateKey: field(/^ {2}private key +(\S+)$/m),
    ethAddress: field(/^ {2}ETH_TEST6 +(0x[0-9a-fA-F]{40})$/m),
    text,
  }
}

async function stop(child: CliProcess): Promise<number | null> {
  child.child.kill('SIGTERM')
  return child.exited
}

/** Whether something still accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'cs-dev-'))
  ports = {
    hub: await freePort(),
    handler: await freePort(),
    admin: await freePort(),
    hubAdmin: await freePort(),
  }
})

afterAll(async () => {
  if (dev !== undefined && dev.child.exitCode === null) await stop(dev)
  for (const child of spawned) if (child.child.exitCode === null) child.child.kill('SIGKILL')
  await Promise.all(spawned.map((child) => child.exited))
  rmSync(cwd, { recursive: true, force: true })
  expect(existsSync(cwd)).toBe(false)
})

describe('countersign dev', () => {
  let banner: Banner

  it('starts the whole system in a fresh folder and prints where everything is', async () => {
    dev = startDev()
    banner = await bannerOf(dev)
    expect(banner.baseUrl).toBe(`http://127.0.0.1:${ports.hub}/v1`)
    expect(banner.text).toMatch(/first start: creating the workspace/)
    expect(banner.text).toMatch(/state in \.countersign-dev\/ \(created now;/)
    expect(banner.text).toMatch(
      /cosigner-a \(API user signer-a\): asks the callback handler before each signature; key sets ECDSA secp256k1, EdDSA Ed25519/,
    )
    expect(banner.text).toMatch(/cosigner-b \(API user signer-b\): no callback handler: approves by itself; /)
    expect(banner.text).toMatch(new RegExp(`callback handler +http://127\\.0\\.0\\.1:${ports.handler} `))
    // The approvals console on the handler's admin listener, and how an approver gets in.
    expect(banner.text).toMatch(
      new RegExp(`approvals console +http://localhost:${ports.admin}/console/$`, 'm'),
    )
    expect(banner.text).toMatch(
      new RegExp(
        `approvers enrol-link alice --origin http://localhost:${ports.admin} --config \\S+countersign\\.yaml`,
      ),
    )
    // The workspace console on the hub's admin listener, with a link that enrols the Owner's passkey.
    expect(banner.text).toMatch(
      new RegExp(`workspace console +http://localhost:${ports.hubAdmin}/console/$`, 'm'),
    )
    expect(banner.text).toMatch(
      new RegExp(`^ {2}http://localhost:${ports.hubAdmin}/console/enrol#token=[\\w-]{43}$`, 'm'),
    )
    const signIn = await fetch(`http://127.0.0.1:${ports.hubAdmin}/console/sign-in`)
    expect(signIn.status).toBe(200)
    expect(signIn.headers.get('content-security-policy')).toMatch(/script-src 'self'/)
    expect(banner.text).toMatch(/^ {2}BTC_TEST +tb1q\w+$/m)
    expect(banner.text).toMatch(/^ {2}SOL_TEST +\w{32,44}$/m)
    expect(banner.text).toContain(`secretKey: readFileSync('${join(cwd, banner.privateKey)}', 'utf8'),`)
    expect(statSync(join(cwd, banner.privateKey)).mode & 0o777).toBe(0o600)
    const state = JSON.parse(readFileSync(join(cwd, '.countersign-dev', 'dev.json'), 'utf8')) as {
      apiUser: { apiKey: string }
    }
    expect(state.apiUser.apiKey).toBe(banner.apiKey)
  }, 330_000)

  it('refuses a second `countersign dev` on the folder while the first runs', async () => {
    const second = startDev()
    expect(await second.exited).toBe(2)
    expect(second.output()).toMatch(
      /^error: countersign dev already runs on this folder \(pid \d+, .+dev\.pid\)$/m,
    )
    expect(dev?.child.exitCode).toBeNull()
  }, 60_000)

  it('`countersign dev demo` runs the minimal flow and verifies every signature', async () => {
    const demo = spawnCli(['dev', 'demo'], cwd)
    expect(await demo.exited, demo.output()).toBe(0)
    const output = demo.output()
    for (const step of [
      /^1\. create a vault account "dev demo .+"\n {3}vault \d+$/m,
      /^2\. add ETH_TEST6 to vault \d+\n {3}deposit address 0x[0-9a-fA-F]{40}$/m,
      /^4\. RAW signature of keccak-256\(".+"\)\n {3}transaction \S+ COMPLETED after/m,
      /^5\. TRANSFER 0\.001 ETH_TEST6 to the one-time address 0x[0-9a-f]{40}\n {3}transaction \S+ COMPLETED/m,
      // Signed with signer-a's co-signer (it asks the handler), or signer-b's once it holds its reshared sets.
      /^ {3}ok {3}(the callback handler answered APPROVE \(rule raw-signing: |signed with the co-signer of API user )/m,
      /^ {3}ok {3}the signature \(r, s, v=[01]\) recovers to the vault address 0x/m,
      /^ {3}ok {3}(the callback handler answered APPROVE \(rule small-transfer: |signed with the co-signer of API user )/m,
      /^ {3}ok {3}the signed transaction recovers to the vault address 0x/m,
      /^All steps completed; every signature verified\.$/m,
    ])
      expect(output).toMatch(step)
    expect(output).not.toMatch(/FAIL/)
  }, 120_000)

  it('signs a RAW digest through @fireblocks/ts-sdk with the printed API key and private key', async () => {
    const fireblocks = new Fireblocks({
      apiKey: banner.apiKey,
      secretKey: readFileSync(join(cwd, banner.privateKey), 'utf8'),
      basePath: banner.baseUrl,
    })
    const digest = Buffer.from(keccak_256(new TextEncoder().encode('dev e2e through the SDK'))).toString(
      'hex',
    )
    const created = await fireblocks.transactions.createTransaction({
      transactionRequest: {
        operation: 'RAW',
        assetId: 'ETH_TEST6',
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        extraParameters: { rawMessageData: { messages: [{ content: digest }] } },
      },
    })
    const tx = await transactionIn(fireblocks, created.data.id as string)
    expect(tx.status).toBe(TransactionStateEnum.Completed)
    expect(ecdsaVerifies(tx, digest)).toBe(true)
    // Vault 0 is the banner's demo vault: the signature recovers to the ETH_TEST6 address it printed.
    expect(await ecdsaSignerAddress(tx, digest)).toBe(banner.ethAddress)
  }, 120_000)

  it('stops everything on SIGTERM: exit 0, the ports free, dev.json and dev.pid removed', async () => {
    expect(await stop(dev as CliProcess)).toBe(0)
    expect(await listening(ports.hub)).toBe(false)
    expect(await listening(ports.handler)).toBe(false)
    expect(await listening(ports.admin)).toBe(false)
    for (const file of ['dev.json', 'dev.pid'])
      expect(existsSync(join(cwd, '.countersign-dev', file))).toBe(false)
    const demo = spawnCli(['dev', 'demo'], cwd)
    expect(await demo.exited).toBe(2)
    expect(demo.output()).toMatch(/^error: no development system is running: .+dev\.json does not exist$/m)
  }, 60_000)

  it('refuses to move the hub its co-signers are paired with to another port', async () => {
    const moved = spawnCli(['dev', '--hub-listen', `127.0.0.1:${await freePort()}`], cwd)
    expect(await moved.exited).toBe(2)
    expect(moved.output()).toMatch(
      new RegExp(
        `^error: the co-signers in .+ are paired with the hub on 127\\.0\\.0\\.1:${ports.hub}, not `,
        'm',
      ),
    )
  }, 60_000)

  it('reuses the folder at the next start: the same API key and addresses, no new workspace', async () => {
    const started = Date.now()
    dev = startDev()
    const again = await bannerOf(dev)
    expect(again.text).not.toMatch(/first start|generating/)
    expect(again.text).toMatch(/state in \.countersign-dev\/ \(reused;/)
    expect(again).toMatchObject({
      apiKey: banner.apiKey,
      privateKey: banner.privateKey,
      ethAddress: banner.ethAddress,
    })
    expect(Date.now() - started).toBeLessThan(60_000)
    expect(await stop(dev)).toBe(0)
  }, 120_000)
})
