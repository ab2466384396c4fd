import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../core/index.js'
import { testDatabases } from '../../../test/support/databases.js'
import {
  hubCosignerStore,
  HUB_COSIGNER_MIGRATIONS,
  migrate,
  openDatabase,
  type CallbackHandlerConfig,
  type StorageDatabase,
} from '../index.js'

const handler = (url: string): CallbackHandlerConfig => ({
  url,
  publicKey: '-----BEGIN PUBLIC KEY-----\n…',
  cert: null,
  certPublicKeyHash: null,
})

describe.each(testDatabases)('hub-cosigners store on $name', (database) => {
  const opened: StorageDatabase[] = []
  const open = async () => {
    const storage = openDatabase(await database.freshUrl())
    opened.push(storage)
    await migrate(storage, HUB_COSIGNER_MIGRATIONS, systemClock.now())
    return hubCosignerStore(storage, systemClock)
  }
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close()
  })
  afterAll(() => database.dropAll())

  it('keeps the last name given to each co-signer', async () => {
    const store = await open()
    await store.rename('c1', 'first')
    await store.rename('c2', 'other')
    await store.rename('c1', 'second')
    expect(await store.names()).toEqual(
      new Map([
        ['c1', 'second'],
        ['c2', 'other'],
      ]),
    )
  })

  it('sets, replaces and clears a callback handler, recording each command as completed', async () => {
    const store = await open()
    const base = { cosignerId: 'c1', apiUserId: 'u1' }
    const paired = await store.apply({
      ...base,
      id: 'r1',
      type: 'PAIR_API_KEY',
      callbackHandler: handler('https://a'),
    })
    expect(paired).toMatchObject({ id: 'r1', type: 'PAIR_API_KEY', status: 'COMPLETED', apiUserId: 'u1' })
    await store.apply({
      ...base,
      id: 'r2',
      type: 'UPDATE_CALLBACK_HANDLER',
      callbackHandler: {
        url: 'https://b',
        publicKey: null,
        cert: 'CERT',
        certPublicKeyHash: 'ab'.repeat(32),
      },
    })
    expect(await store.callbackHandler('u1')).toMatchObject({
      cosignerId: 'c1',
      url: 'https://b',
      publicKey: null,
      cert: 'CERT',
      certPublicKeyHash: 'ab'.repeat(32),
    })
    await store.apply({ ...base, id: 'r3', type: 'UNPAIR_API_KEY', callbackHandler: null })
    expect(await store.callbackHandler('u1')).toBeUndefined()
    expect(await store.request('r2')).toMatchObject({ type: 'UPDATE_CALLBACK_HANDLER', status: 'COMPLETED' })
    expect(await store.request('nope')).toBeUndefined()
  })

  it('writes nothing of a command whose request id was used before', async () => {
    const store = await open()
    const base = { cosignerId: 'c1', apiUserId: 'u1' }
    await store.apply({ ...base, id: 'r1', type: 'PAIR_API_KEY', callbackHandler: handler('https://a') })
    await expect(
      store.apply({
        ...base,
        id: 'r1',
        type: 'UPDATE_CALLBACK_HANDLER',
        callbackHandler: handler('https://evil'),
      }),
    ).rejects.toThrow()
    expect((await store.callbackHandler('u1'))?.url).toBe('https://a')
    expect((await store.request('r1'))?.type).toBe('PAIR_API_KEY')
  })
})
