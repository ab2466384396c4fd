/**
 * Handler processes for fault tests: started from a configuration folder with `countersign handler start`,
 * sent requests signed as the co-signer, probed on `/readyz`, and all killed by `stopHandlers()` (call it
 * in `afterEach`) whatever the test did.
 */
import { join } from 'node:path'
import { Pool } from 'undici'
import {
  callbackPath,
  signCallbackRequest,
  verifyCallbackResponse,
  type CallbackResponse,
  type CallbackRoute,
} from '../../src/protocol/index.js'
import { testKeyPair } from './keys.js'
import { spawnCli, type CliProcess } from './process.js'

export interface HandlerProcess extends CliProcess {
  readonly url: string
  /** The pids of the processes that print they listen (the workers under --workers N). */
  readonly listeningPids: () => number[]
}

const started: CliProcess[] = []
const pools = new Map<string, Pool>()

export async function startHandlerProcess(
  dir: string,
  extraArgs: readonly string[] = [],
): Promise<HandlerProcess> {
  const handler = spawnCli(['handler', 'start', '--config', join(dir, 'countersign.yaml'), ...extraArgs], dir)
  started.push(handler)
  const url = await handler.listening
  return {
    ...handler,
    url,
    listeningPids: () =>
      [...handler.output().matchAll(/listening on \S+ \(pid (\d+)\)/g)].map((match) => Number(match[1])),
  }
}

/** Resolves once `count` processes of `handler` print that they listen (the workers of --workers N). */
export async function allListening(
  handler: HandlerProcess,
  count: number,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(() => handler.listeningPids().length >= count, timeoutMs, `${count} listening workers`)
}

export async function stopHandlers(): Promise<void> {
  for (const handler of started.splice(0)) {
    // SIGCONT first: a process stopped by a test would not act on SIGKILL's exit until continued.
    handler.child.kill('SIGCONT')
    handler.child.kill('SIGKILL')
  }
  for (const pool of pools.values()) await pool.destroy()
  pools.clear()
}

function poolFor(url: string): Pool {
  let pool = pools.get(url)
  if (!pool) {
    pool = new Pool(url, { connections: 16, headersTimeout: 60_000, bodyTimeout: 60_000 })
    pools.set(url, pool)
  }
  return pool
}

export function signRequest(payload: unknown): Promise<string> {
  return signCallbackRequest(payload, testKeyPair('cosigner').privateKey)
}

/** POSTs a signed token; the verified answer, or `undefined` when no signed 200 answer came. */
export async function postToken(
  url: string,
  token: string,
  route: CallbackRoute = 'tx',
): Promise<CallbackResponse | undefined> {
  try {
    const response = await poolFor(url).request({
      method: 'POST',
      path: callbackPath('', 'jwt', route),
      body: token,
    })
    const body = await response.body.text()
    if (response.statusCode !== 200) return undefined
    return await verifyCallbackResponse(body, testKeyPair('handler').publicKey)
  } catch {
    return undefined
  }
}

/** The status `/readyz` answers, or 0 when it cannot be reached. */
export async function readiness(url: string): Promise<number> {
  try {
    const response = await poolFor(url).request({ method: 'GET', path: '/readyz' })
    await response.body.text()
    return response.statusCode
  } catch {
    return 0
  }
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Whether the process `pid` still runs (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
