/**
 * A callback handler whose answers a test scripts per transaction: it verifies each request (RS256 under the
 * co-signer's public key), records it, and answers APPROVE, REJECT (with a reason), RETRY, or nothing at all
 * (HANG: the co-signer's 30-second budget decides). Answers are RS256 JWTs under the handler's own key.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { createPublicKey, type KeyObject } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { generateRsaKeyPair } from '../../src/keys/index.js'
import { signCallbackResponse, verifyRs256 } from '../../src/protocol/index.js'
import { runCli } from '../support/cli.js'

export type ScriptedAnswer =
  'APPROVE' | 'RETRY' | 'IGNORE' | 'HANG' | { readonly action: 'REJECT'; readonly reason: string }

export interface SeenRequest {
  readonly txId: string
  readonly externalTxId: unknown
  readonly requestId: string
  readonly signerId: unknown
  readonly payload: Record<string, unknown>
  /** The exact JWT received: a RETRY must re-send the identical bytes. */
  readonly body: string
  readonly at: number
}

export interface ScriptedHandler {
  readonly url: string
  readonly publicKeyPem: string
  readonly seen: SeenRequest[]
  /**
   * The answers to the requests of the transaction whose externalTxId is `key` (known before it is created,
   * unlike its id) or of the configuration change whose `extraInfo.draftId` is `key`, in order; the last one
   * repeats. APPROVE when none is set.
   */
  script(key: string, answers: readonly ScriptedAnswer[]): void
  /** Until the co-signer's key is known, every request is refused (401). */
  trust(cosignerPublicKey: KeyObject): void
  close(): Promise<void>
}

/** A transaction's externalTxId, or a configuration change's draft id. */
function scriptKeyOf(payload: Record<string, unknown>): string {
  const draftId = (payload.extraInfo as { draftId?: unknown } | undefined)?.draftId
  return String(payload.externalTxId ?? draftId)
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of request) body += String(chunk)
  return body
}

export async function startScriptedHandler(): Promise<ScriptedHandler> {
  const handlerKeys = await generateRsaKeyPair(2048)
  const scripts = new Map<string, ScriptedAnswer[]>()
  const seen: SeenRequest[] = []
  let cosignerKey: KeyObject | undefined
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request)
      const routes = ['/v2/tx_sign_request', '/v2/config_change_sign_request']
      if (!routes.includes(request.url ?? '') || cosignerKey === undefined) {
        response.writeHead(cosignerKey === undefined ? 401 : 404).end()
        return
      }
      let payload: Record<string, unknown>
      try {
        payload = (await verifyRs256(body, [cosignerKey])).payload as Record<string, unknown>
      } catch {
        response.writeHead(401).end()
        return
      }
      const txId = String(payload.txId)
      const requestId = String(payload.requestId)
      seen.push({
        txId,
        externalTxId: payload.externalTxId,
        requestId,
        signerId: payload.signerId,
        payload,
        body,
        at: Date.now(),
      })
      const queue = scripts.get(scriptKeyOf(payload)) ?? []
      const answer = (queue.length > 1 ? queue.shift() : queue[0]) ?? 'APPROVE'
      if (answer === 'HANG') return // never answered: the co-signer's timeout ends it
      const reply =
        typeof answer === 'string'
          ? { action: answer, requestId }
          : { action: answer.action, requestId, rejectionReason: answer.reason }
      response.writeHead(200, { 'content-type': 'text/plain' })
      response.end(await signCallbackResponse(reply, handlerKeys.privateKey))
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('the scripted handler has no port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    publicKeyPem: handlerKeys.publicKeyPem,
    seen,
    script: (key, answers) => void scripts.set(key, [...answers]),
    trust: (key) => void (cosignerKey = key),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/**
 * Sets the co-signer of folder `cosignerDir` to ask `handler` about `apiUserId`'s requests, in public-key mode
 * (`countersign cosigner callback set`), and has `handler` trust that co-signer's key (`cosigner public-key`).
 * The handler's public key is written beside the folder. Throws with the command's output when one fails.
 */
export async function attachScriptedHandler(
  handler: ScriptedHandler,
  cosignerDir: string,
  apiUserId: string,
): Promise<void> {
  const cwd = join(cosignerDir, '..')
  const key = await runCli(['cosigner', 'public-key', '--dir', cosignerDir], cwd)
  if (key.code !== 0) throw new Error(`cosigner public-key failed: ${key.err}`)
  handler.trust(createPublicKey(key.out))
  const publicKeyFile = join(cwd, `${basename(cosignerDir)}-handler.pub`)
  writeFileSync(publicKeyFile, handler.publicKeyPem)
  const args = [
    '--dir',
    cosignerDir,
    '--api-user',
    apiUserId,
    '--url',
    handler.url,
    '--public-key',
    publicKeyFile,
  ]
  const set = await runCli(['cosigner', 'callback', 'set', ...args], cwd)
  if (set.code !== 0) throw new Error(`cosigner callback set failed: ${set.err}`)
}
