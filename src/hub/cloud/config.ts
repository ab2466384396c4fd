import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { parseDuration } from '../../core/index.js'
import type { PartyKeys } from '../../mpc/index.js'
import {
  loadConfig,
  readKeyText,
  resolvePath,
  resolveStoreUrl,
  storeUrlSchema,
  type CompileContext,
  type ConfigCompiler,
} from '../../service/index.js'

/**
 * A cloud co-signer's configuration (`countersign cloud-cosigner start --config FILE`): which cloud it is,
 * how it reaches and authenticates to the hub, the hub's service key it checks everything against, its
 * X25519 party key, and where its key shares, pre-signatures and log live. Relative paths are relative to
 * the file; COUNTERSIGN_REFRESH_TOKEN and COUNTERSIGN_STORE override `refreshToken` and `store`.
 */
const RawSchema = z.strictObject({
  hub: z.string().min(1),
  party: z.enum(['cloud1', 'cloud2']),
  refreshToken: z.string().min(1).optional(),
  refreshTokenFile: z.string().min(1).optional(),
  hubKey: z.string().min(1),
  partyKey: z.string().min(1),
  keyShares: z.string().min(1),
  presignatures: z.string().min(1).optional(),
  store: storeUrlSchema.default('sqlite:./cloud-cosigner.db'),
  sessionIdle: z.string().default('60s'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})
type RawConfig = z.infer<typeof RawSchema>

export interface CloudCosignerConfig {
  readonly hubUrl: string
  readonly party: PartyKeys
  readonly refreshToken: string
  readonly hubKey: KeyObject
  readonly keyShareDirectory: string
  readonly presignatureDirectory: string
  readonly storeUrl: string
  readonly sessionIdleMs: number
  readonly logLevel: RawConfig['logLevel']
}

export const cloudCosignerConfig: ConfigCompiler<typeof RawSchema, CloudCosignerConfig> = {
  schema: RawSchema,
  envOverrides: { refreshToken: 'COUNTERSIGN_REFRESH_TOKEN', store: 'COUNTERSIGN_STORE' },
  compile(raw, context) {
    const hubUrl = compileHubUrl(raw.hub, context)
    const refreshToken = compileRefreshToken(raw, context)
    const hubKey = compileHubKey(resolvePath(raw.hubKey, context.baseDir), context)
    const party = compilePartyKey(raw, context)
    const sessionIdleMs = context.attempt('sessionIdle', 'write a duration, e.g. 60s', () =>
      parseDuration(raw.sessionIdle),
    )
    const keyShareDirectory = resolvePath(raw.keyShares, context.baseDir)
    return {
      hubUrl: hubUrl ?? '',
      party: party as PartyKeys,
      refreshToken: refreshToken ?? '',
      hubKey: hubKey as KeyObject,
      keyShareDirectory,
      presignatureDirectory: resolvePath(
        raw.presignatures ?? `${raw.keyShares}/presignatures`,
        context.baseDir,
      ),
      storeUrl: resolveStoreUrl(raw.store, context.baseDir),
      sessionIdleMs: sessionIdleMs ?? 0,
      logLevel: raw.logLevel,
    }
  },
}

/** Reads and checks a cloud co-signer configuration file; throws `ConfigInvalid` naming every problem. */
export function loadCloudCosignerConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): CloudCosignerConfig {
  return loadConfig(cloudCosignerConfig, file, env)
}

function compileHubUrl(text: string, context: CompileContext): string | undefined {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    context.problem(
      'hub',
      `"${text}" is not an http(s) URL`,
      'write the hub API URL, e.g. https://hub.example.com',
    )
    return undefined
  }
  return text
}

function compileRefreshToken(raw: RawConfig, context: CompileContext): string | undefined {
  if ((raw.refreshToken === undefined) === (raw.refreshTokenFile === undefined)) {
    context.problem(
      'refreshToken',
      'give exactly one of refreshToken and refreshTokenFile',
      'set refreshTokenFile to the file `countersign hub init` wrote, or refreshToken: ${COUNTERSIGN_REFRESH_TOKEN}',
    )
    return undefined
  }
  if (raw.refreshToken !== undefined) return raw.refreshToken
  const file = resolvePath(raw.refreshTokenFile as string, context.baseDir)
  const fix = 'give a readable file holding the refresh token `countersign hub init` wrote'
  const token = context.attempt('refreshTokenFile', fix, () => readFileSync(file, 'utf8').trim())
  if (token === '') context.problem('refreshTokenFile', `${file} is empty`, fix)
  return token
}

const HubJwkSchema = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(1) })
const HUB_KEY_FIX =
  "give the file holding the hub's service public key as a JWK ({ kty: OKP, crv: Ed25519, x }), as `countersign hub init` wrote it"

function compileHubKey(file: string, context: CompileContext): KeyObject | undefined {
  const jwk = context.attempt('hubKey', HUB_KEY_FIX, () => JSON.parse(readFileSync(file, 'utf8')) as unknown)
  if (jwk === undefined) return undefined
  if (typeof jwk === 'object' && jwk !== null && 'd' in jwk) {
    context.problem('hubKey', `${file} holds a private key`, "give the hub's public key only (no `d`)")
    return undefined
  }
  const parsed = HubJwkSchema.safeParse(jwk)
  if (!parsed.success) {
    context.problem('hubKey', `${file} is not an Ed25519 public JWK`, HUB_KEY_FIX)
    return undefined
  }
  return context.attempt('hubKey', HUB_KEY_FIX, () => createPublicKey({ key: parsed.data, format: 'jwk' }))
}

const PARTY_KEY_FIX =
  "give this cloud co-signer's X25519 private key as a PEM file (PKCS#8), the key whose public half the hub registered"

function compilePartyKey(raw: RawConfig, context: CompileContext): PartyKeys | undefined {
  const privateKey = context.attempt('partyKey', PARTY_KEY_FIX, () =>
    createPrivateKey(readKeyText(raw.partyKey, context.baseDir)),
  )
  if (privateKey === undefined) return undefined
  if (privateKey.asymmetricKeyType !== 'x25519') {
    context.problem(
      'partyKey',
      `is a ${privateKey.asymmetricKeyType ?? 'symmetric'} key, not X25519`,
      PARTY_KEY_FIX,
    )
    return undefined
  }
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' })
  return { name: raw.party, privateKey, publicKey: new Uint8Array(Buffer.from(x ?? '', 'base64url')) }
}
