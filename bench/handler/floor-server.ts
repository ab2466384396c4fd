/**
 * The floor under any Node.js handler: a server that does only what every answer needs, and nothing a
 * handler must add (no validation, policy, store, audit, log or metrics). node:http reads the request, the
 * handler's own protocol functions verify the co-signer's RS256 signature and sign an APPROVE with the
 * handler key, exactly as the handler does. Its CPU per request, against openssl's CPU per signature, is
 * the best efficiency a handler built on Node.js can reach on this machine. Run by ../handler-throughput.ts
 * as its own process: `floor-server.ts CONFIG_DIR PORT`; prints `listening` once it is.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import {
  Action,
  extractCompactToken,
  importRsaPrivateKey,
  importRsaPublicKey,
  readRequestId,
  signCallbackResponse,
  verifyRs256,
} from '../../src/protocol/index.js'

const [dir, port] = process.argv.slice(2)
if (dir === undefined || port === undefined) throw new Error('usage: floor-server.ts CONFIG_DIR PORT')
const cosignerKeys = [importRsaPublicKey(readFileSync(join(dir, 'cosigner.pub'), 'utf8'))]
const handlerKey = importRsaPrivateKey(readFileSync(join(dir, 'handler.key'), 'utf8'))

async function answer(body: string): Promise<{ status: number; body: string }> {
  try {
    const { payload } = await verifyRs256(extractCompactToken(body), cosignerKeys)
    const requestId = readRequestId(payload)
    if (requestId === undefined) return { status: 400, body: '' }
    return {
      status: 200,
      body: await signCallbackResponse({ action: Action.approve, requestId }, handlerKey),
    }
  } catch {
    return { status: 401, body: '' }
  }
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    void answer(Buffer.concat(chunks).toString('utf8')).then(({ status, body }) => {
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body)
    })
  })
})
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
