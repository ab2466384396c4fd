/** In-process CLI runs for the simulator and conformance tests: captured output and key files on disk. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli as runCliIn } from '../support/cli.js'
import { testKeyPair } from '../support/keys.js'

/** The shared in-process runner, with the key folder as cwd and output kept as the lines written. */
export async function runCli(
  args: readonly string[],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const result = await runCliIn(args, keyDir)
  return { code: result.code, out: [...result.outLines], err: [...result.errLines] }
}

/** `cosigner.key` (mode 0600), `cosigner.pub`, `handler.pub` in a temp dir, which is also the CLI's cwd. */
export const keyDir = mkdtempSync(join(tmpdir(), 'cs-cli-keys-'))
writeFileSync(join(keyDir, 'cosigner.key'), testKeyPair('cosigner').privatePem, { mode: 0o600 })
writeFileSync(join(keyDir, 'cosigner.pub'), testKeyPair('cosigner').publicPem)
writeFileSync(join(keyDir, 'handler.pub'), testKeyPair('handler').publicPem)

export const KEY_ARGS = ['--cosigner-key', 'cosigner.key', '--handler-pubkey', 'handler.pub'] as const
