/** RSA key pairs for tests, generated once per process (RSA generation is slow). */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'

export interface TestKeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly privatePem: string
  readonly publicPem: string
}

const cache = new Map<string, TestKeyPair>()

export function testKeyPair(name: string, modulusLength = 2048): TestKeyPair {
  const cacheKey = `${name}:${modulusLength}`
  const cached = cache.get(cacheKey)
  if (cached) return cached
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength })
  const pair = {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
  cache.set(cacheKey, pair)
  return pair
}
