/**
 * A whole workspace for end-to-end tests: `hub init` in a temporary folder, the hub in this process (so
 * tests can look at its store), the two cloud co-signers and a customer co-signer as child processes run
 * from the built `countersign` command, the way an operator runs them.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Fireblocks } from '@fireblocks/ts-sdk'
import pino from 'pino'
import { createCsr, generateRsaKeyPair, signRequest } from '../../src/keys/index.js'
import { initWorkspace, loadHubConfig, startHub, type RunningHub } from '../../src/hub/index.js'
import { readWorkspaceKeys } from '../../src/storage/index.js'
import { spawnCli, type CliProcess } from '../support/process.js'

export interface ApiUser {
  readonly id: string
  readonly privateKey: KeyObject
  readonly privateKeyPem: string
}

export interface Workspace {
  readonly dir: string
  readonly hub: RunningHub
  readonly url: string
  readonly owner: ApiUser
  sdk(user: ApiUser): Fireblocks
  /** A signed request to the hub's REST API, as any client would send it. */
  call(user: ApiUser, method: string, path: string, body?: unknown): Promise<Response>
  createApiUser(name: string, role: string): Promise<ApiUser>
  /** Pairs a co-signer (child process) with `user` and waits until its key sets exist. */
  startCosigner(user: ApiUser, name: string): Promise<CliProcess>
  close(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

export async function startWorkspace(): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-hub-'))
  const children: CliProcess[] = []
  const port = await freePort()
  const init = await initWorkspace({ dir, listen: `127.0.0.1:${port}` })
  const config = loadHubConfig(init.configPath, {})
  const hub = await startHub(config, { log: pino({ level: process.env.HUB_TEST_LOG ?? 'silent' }) })
  const url = hub.url
  const ownerPem = readFileSync(init.ownerKeyPath as string, 'utf8')
  const owner: ApiUser = {
    id: init.ownerApiKey,
    privateKey: createPrivateKey(ownerPem),
    privateKeyPem: ownerPem,
  }
  for (const party of ['cloud1', 'cloud2'] as const)
    children.push(spawnCli(['cloud-cosigner', 'start', '--config', init.cloudConfigs[party]], dir))

  const sdk = (user: ApiUser) =>
    new Fireblocks({ apiKey: user.id, secretKey: user.privateKeyPem, basePath: `${url}/v1` })

  const call = async (user: ApiUser, method: string, path: string, body?: unknown) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const { headers } = await signRequest({
      apiKey: user.id,
      privateKey: user.privateKey,
      url: path,
      ...(text === undefined ? {} : { body: text }),
    })
    return fetch(`${url}${path}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(text === undefined ? {} : { body: text }),
    })
  }

  const createApiUser = async (name: string, role: string): Promise<ApiUser> => {
    const pair = await generateRsaKeyPair(2048)
    await sdk(owner).apiUser.createApiUser({
      createAPIUser: { name, role, csrPem: createCsr(pair.privateKey, `/CN=${name}`) },
    })
    const listed = await sdk(owner).apiUser.getApiUsers()
    const id = listed.data.users.find((user) => user.name === name)?.id
    if (id === undefined) throw new Error(`API user ${name} was not created`)
    return { id, privateKey: pair.privateKey, privateKeyPem: pair.privateKeyPem }
  }

  const startCosigner = async (user: ApiUser, name: string) => {
    const issued = (await (
      await call(owner, 'POST', `/v1/management/api_users/${user.id}/pairing_token`)
    ).json()) as {
      pairingToken: string
    }
    const cosignerDir = join(dir, name)
    const paired = spawnCli(['cosigner', 'pair', '--hub', url, '--dir', cosignerDir, '--name', name], dir, {
      COUNTERSIGN_PAIRING_TOKEN: issued.pairingToken,
    })
    if ((await paired.exited) !== 0) throw new Error(`pairing failed:\n${paired.output()}`)
    const cosigner = spawnCli(['cosigner', 'start', '--dir', cosignerDir, '--log-level', 'warn'], dir)
    children.push(cosigner)
    await until(
      'the key sets of the first co-signer',
      async () => ((await hub.hub.db.read(readWorkspaceKeys)).length === 2 ? true : undefined),
      240_000,
    )
    return cosigner
  }

  return {
    dir,
    hub,
    url,
    owner,
    sdk,
    call,
    createApiUser,
    startCosigner,
    close: async () => {
      for (const child of children) child.child.kill('SIGTERM')
      await Promise.all(children.map((child) => child.exited))
      await hub.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
