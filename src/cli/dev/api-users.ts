import { createPrivateKey, type KeyObject } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createCsr, generateRsaKeyPair, writePrivateKeyFile } from '../../keys/index.js'
import { DevHubRefused } from '../errors.js'
import type { HubClient } from './hub-client.js'

export interface DevApiUser {
  readonly name: string
  /** Its API key (the hub's API user id). */
  readonly id: string
  readonly keyPath: string
  readonly privateKey: KeyObject
}

interface ApiUserList {
  readonly users: readonly { readonly id: string; readonly name: string }[]
}

async function findByName(owner: HubClient, name: string): Promise<string | undefined> {
  return (await owner.get<ApiUserList>('/v1/management/api_users')).users.find((user) => user.name === name)
    ?.id
}

/**
 * A Signer API user, created by the Owner through the hub's API the first time, found by its name after.
 * Its key is written (0600) before the user is created, so a start interrupted in between creates it
 * again with the same key, never a second user with a key that was lost.
 */
export async function ensureSigner(owner: HubClient, name: string, keyPath: string): Promise<DevApiUser> {
  if (!existsSync(keyPath)) {
    await mkdir(dirname(keyPath), { recursive: true, mode: 0o700 })
    await writePrivateKeyFile(keyPath, (await generateRsaKeyPair()).privateKeyPem)
  }
  const privateKey = createPrivateKey(await readFile(keyPath, 'utf8'))
  let id = await findByName(owner, name)
  if (id === undefined) {
    const csrPem = createCsr(privateKey, [{ type: 'CN', value: name }])
    await owner.post('/v1/management/api_users', { name, role: 'SIGNER', csrPem })
    id = await findByName(owner, name)
    if (id === undefined) throw new DevHubRefused(`the hub created no API user named ${name}`)
  }
  return { name, id, keyPath, privateKey }
}
