/** In-process CLI runs for the simulator and conformance tests: captured output and key files on disk. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import { testKeyPair } from '../support/keys.js'

export async function runCli(
  args: readonly string[],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const io = {
    out: (text: string) => void out.push(text),
    err: (text: string) => void err.push(text),
    cwd: keyDir,
    env: {},
  }
  const code = await main(['node', 'countersign', ...args], io)
  return { code, out, err }
}

/** `cosigner.key` (mode 0600), `cosigner.pub`, `handler.pub` in a temp dir, which is also the CLI's cwd. */
export const keyDir = mkdtempSync(join(tmpdir(), 'cs-cli-keys-'))
writeFileSync(join(keyDir, 'cosigner.key'), testKeyPair('cosigner').privatePem, { mode: 0o600 })
writeFileSync(join(keyDir, 'cosigner.pub'), testKeyPair('cosigner').publicPem)
writeFileSync(join(keyDir, 'handler.pub'), testKeyPair('handler').publicPem)

export const KEY_ARGS = ['--cosigner-key', 'cosigner.key', '--handler-pubkey', 'handler.pub'] as const
