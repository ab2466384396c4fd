import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  encode,
  MemoryPresignatureStore,
  type PresignatureStore,
  type RoundParty,
  type RoundStep,
} from '../../src/mpc/index.js'
import type { CrashSignerArguments, CrashSignerReply } from './crash-signer.js'
import { FilePresignatureStore } from '../../src/link/index.js'

const SCRIPT = new URL('./crash-signer.ts', import.meta.url).pathname

/** The crash signer's process: one reply at a time over IPC; an exit before the reply is an error. */
class SignerProcess {
  private readonly child: ChildProcess
  private readonly exited: Promise<void>

  constructor(args: CrashSignerArguments) {
    this.child = fork(SCRIPT, [JSON.stringify(args)], {
      execPath: process.execPath,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
  }

  next(): Promise<CrashSignerReply> {
    return new Promise((resolve, reject) => {
      const gone = () => reject(new Error('the signer process exited without replying'))
      this.child.once('exit', gone)
      this.child.once('message', (reply: CrashSignerReply) => {
        this.child.off('exit', gone)
        resolve(reply)
      })
    })
  }

  answer(inbound: ReadonlyMap<string, unknown>): void {
    this.child.send(inbound)
  }

  /** SIGKILL: no handler, no flush, no clean-up runs in the signer. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    await this.exited
  }
}

type OnlineSigner<S, R> = (
  share: S,
  store: PresignatureStore,
  id: string,
  message: Uint8Array,
) => Promise<RoundParty<R>>

export interface CrashScenario<S extends { readonly self: string }, R> {
  readonly algorithm: CrashSignerArguments['algorithm']
  /** [signer in the child process, the two signers of this process]. */
  readonly shares: readonly S[]
  readonly sign: OnlineSigner<S, R>
  /** Runs a pre-signature session for every share and stores each party's part in its store. */
  readonly presign: (stores: ReadonlyMap<string, PresignatureStore>) => Promise<string>
}

export interface CrashObservation<R> {
  /** What the other two finished from the killed session, with the killed signer's one message. */
  readonly fromKilledSession: R
  /** The restarted signer and the other two, asked to use the same pre-signature for another message. */
  readonly refusals: readonly string[]
  /** The fresh pre-signature, signed by the restarted signer process and the other two. */
  readonly afterRestart: readonly R[]
  readonly messages: readonly [Uint8Array, Uint8Array]
}

/**
 * Kills the child's signer with SIGKILL right after it took its pre-signature and sent its online message,
 * restarts it on the same durable store and has it try to reuse that pre-signature for another message, then
 * sign that message with a fresh pre-signature made before the crash.
 */
export async function crashMidSignature<S extends { readonly self: string }, R>(
  scenario: CrashScenario<S, R>,
): Promise<CrashObservation<R>> {
  const directory = mkdtempSync(join(tmpdir(), 'countersign-mpc-crash-'))
  const [childShare, ...localShares] = scenario.shares as [S, ...S[]]
  const shareFile = join(directory, 'share.bin')
  writeFileSync(shareFile, encode(childShare), { mode: 0o600 })
  const storeDirectory = join(directory, 'store')
  const stores = new Map<string, PresignatureStore>(
    localShares.map((s) => [s.self, new MemoryPresignatureStore()]),
  )
  stores.set(childShare.self, new FilePresignatureStore(storeDirectory))
  const messages: [Uint8Array, Uint8Array] = [
    new Uint8Array(randomBytes(32)),
    new Uint8Array(randomBytes(32)),
  ]
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
  const spawnSigner = (attempts: [string, Uint8Array][]) =>
    new SignerProcess({
      algorithm: scenario.algorithm,
      shareFile,
      storeDirectory,
      attempts: attempts.map(([presignatureId, message]) => ({ presignatureId, message: hex(message) })),
    })
  const localParties = (id: string, message: Uint8Array) =>
    Promise.all(
      localShares.map((s) => scenario.sign(s, stores.get(s.self) as PresignatureStore, id, message)),
    )
  const signers: SignerProcess[] = []
  try {
    const used = await scenario.presign(stores)
    const fresh = await scenario.presign(stores)
    const killed = spawnSigner([[used, messages[0]]])
    signers.push(killed)
    const fromKilledSession = await onlineRound(
      childShare.self,
      killed,
      await localParties(used, messages[0]),
      {
        killAfterFirstMessage: true,
      },
    )

    const restarted = spawnSigner([
      [used, messages[1]],
      [fresh, messages[1]],
    ])
    signers.push(restarted)
    const refusals = [await restarted.next().then(codeOf)]
    for (const s of localShares)
      refusals.push(
        await scenario
          .sign(s, stores.get(s.self) as PresignatureStore, used, messages[1])
          .then(() => 'signed', codeOf),
      )

    const afterRestart = await onlineRound(
      childShare.self,
      restarted,
      await localParties(fresh, messages[1]),
      {
        killAfterFirstMessage: false,
      },
    )
    return {
      fromKilledSession,
      refusals,
      afterRestart: [afterRestart, ...(await restarted.next().then(resultOf<R>))],
      messages,
    }
  } finally {
    for (const signer of signers) await signer.kill()
    rmSync(directory, { recursive: true, force: true })
  }
}

/**
 * One online round between the child's signer and two local parties: every party's message is delivered to
 * every party (its own included). Returns the first local party's result.
 */
async function onlineRound<R>(
  childName: string,
  child: SignerProcess,
  local: RoundParty<R>[],
  options: { killAfterFirstMessage: boolean },
): Promise<R> {
  const steps = new Map<string, RoundStep<R>['messages']>()
  for (const party of local) steps.set(party.self, (await party.start()).messages)
  const reply = await child.next()
  if (reply.kind !== 'round')
    throw new Error(`the signer process answered ${reply.kind}: ${'message' in reply ? reply.message : ''}`)
  steps.set(childName, reply.messages)
  if (options.killAfterFirstMessage) await child.kill()
  const inboundFor = (to: string) => new Map([...steps].map(([from, out]) => [from, out.get(to)]))
  if (!options.killAfterFirstMessage) child.answer(inboundFor(childName))
  const results = await Promise.all(local.map((party) => party.receive(1, inboundFor(party.self))))
  const first = results[0]
  if (first?.finished !== true) throw new Error('the online round did not finish')
  return first.result
}

const codeOf = (value: unknown): string =>
  typeof value === 'object' && value !== null && 'code' in value
    ? String(value.code)
    : `no refusal: ${JSON.stringify(value)}`

function resultOf<R>(reply: CrashSignerReply): R[] {
  if (reply.kind !== 'result')
    throw new Error(`the restarted signer did not sign: ${'message' in reply ? reply.message : reply.kind}`)
  return [reply.result as R]
}
