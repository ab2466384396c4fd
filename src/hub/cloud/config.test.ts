import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadCloudCosignerConfig } from './config.js'

describe('the cloud co-signer configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-cloud-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const hub = generateKeyPairSync('ed25519')
  const party = generateKeyPairSync('x25519')
  writeFileSync(join(dir, 'hub.jwk.json'), JSON.stringify(hub.publicKey.export({ format: 'jwk' })))
  writeFileSync(join(dir, 'hub-private.jwk.json'), JSON.stringify(hub.privateKey.export({ format: 'jwk' })))
  writeFileSync(join(dir, 'party.pem'), party.privateKey.export({ format: 'pem', type: 'pkcs8' }))
  writeFileSync(join(dir, 'token'), 'refresh-token-1\n')
  const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(dir, 'cloud.yaml'), yaml)
    return loadCloudCosignerConfig(join(dir, 'cloud.yaml'), env)
  }

  it('resolves files and paths against the configuration folder', () => {
    const config = load(
      'hub: https://hub.example.com\nparty: cloud2\nrefreshTokenFile: token\nhubKey: hub.jwk.json\npartyKey: party.pem\nkeyShares: shares\n',
    )
    expect(config).toMatchObject({
      hubUrl: 'https://hub.example.com',
      refreshToken: 'refresh-token-1',
      keyShareDirectory: join(dir, 'shares'),
      presignatureDirectory: join(dir, 'shares', 'presignatures'),
      storeUrl: `sqlite:${join(dir, 'cloud-cosigner.db')}`,
      sessionIdleMs: 60_000,
    })
    expect(config.party.name).toBe('cloud2')
    expect(Buffer.from(config.party.publicKey).toString('base64url')).toBe(
      party.publicKey.export({ format: 'jwk' }).x,
    )
    expect(config.hubKey.equals(hub.publicKey)).toBe(true)
  })

  it('names each bad key with its fix', () => {
    let message = ''
    try {
      load(
        'hub: ftp://hub\nparty: cloud1\nhubKey: hub-private.jwk.json\npartyKey: hub.jwk.json\nkeyShares: s\n',
      )
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/hub.*not an http\(s\) URL/)
    expect(message).toMatch(/refreshToken.*exactly one of refreshToken and refreshTokenFile/)
    expect(message).toMatch(/hubKey.*holds a private key/)
    expect(message).toMatch(/partyKey/)
  })
})
