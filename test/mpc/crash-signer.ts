/**
 * A signer in its own process, for the crash tests: for each attempt in turn, takes the pre-signature from a
 * durable store and runs the online round, or reports the refusal; it talks to the test over IPC (structured
 * clone carries the Maps and bytes). The test kills it with SIGKILL after its first message and starts it
 * again on the same store. Argument: JSON `CrashSignerArguments`.
 */
import { readFileSync } from 'node:fs'
import {
  createDklsEcdsaEngine,
  createFrostEddsaEngine,
  decode,
  MpcError,
  type EcdsaKeyShare,
  type EddsaKeyShare,
  type RoundParty,
} from '../../src/mpc/index.js'
import { FilePresignatureStore } from '../../src/link/index.js'

export interface CrashSignerArguments {
  readonly algorithm: 'ecdsa' | 'eddsa'
  readonly shareFile: string
  readonly storeDirectory: string
  readonly attempts: readonly { readonly presignatureId: string; readonly message: string }[]
}

export type CrashSignerReply =
  | { readonly kind: 'round'; readonly messages: ReadonlyMap<string, unknown> }
  | { readonly kind: 'result'; readonly result: unknown }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }

const send = (reply: CrashSignerReply) => process.send?.(reply)

type Attempt = CrashSignerArguments['attempts'][number]

async function onlineParty(args: CrashSignerArguments, attempt: Attempt): Promise<RoundParty<unknown>> {
  const share = decode(readFileSync(args.shareFile))
  const store = new FilePresignatureStore(args.storeDirectory)
  const message = Uint8Array.from(Buffer.from(attempt.message, 'hex'))
  return args.algorithm === 'ecdsa'
    ? createDklsEcdsaEngine().sign(share as EcdsaKeyShare, store, attempt.presignatureId, message)
    : createFrostEddsaEngine().sign(share as EddsaKeyShare, store, attempt.presignatureId, message)
}

async function sign(args: CrashSignerArguments, attempt: Attempt): Promise<void> {
  const party = await onlineParty(args, attempt)
  const step = await party.start()
  send({ kind: 'round', messages: step.messages })
  const inbound = await new Promise<ReadonlyMap<string, unknown>>((resolve) =>
    process.once('message', resolve),
  )
  const last = await party.receive(1, inbound)
  if (last.finished) send({ kind: 'result', result: last.result })
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as CrashSignerArguments
  for (const attempt of args.attempts) {
    await sign(args, attempt).catch((error: unknown) =>
      send({
        kind: 'error',
        code: error instanceof MpcError ? error.code : 'unexpected',
        message: error instanceof Error ? error.message : String(error),
      }),
    )
  }
}

await main()
process.disconnect?.()
