import { Worker } from 'node:worker_threads'
import { MpcError, type MpcErrorCode } from './errors.js'
import type { RoundParty, RoundStep } from './round-party.js'

type Reply<R> =
  | { step: RoundStep<R>; error?: undefined }
  | { error: { code: MpcErrorCode; message: string; party?: string } }

/**
 * A round party whose steps run in a worker thread (structured clone carries the Maps and bytes). Running
 * from the TypeScript sources (tests), the worker needs the tsx loader; from `dist/` it is plain JavaScript.
 */
export class WorkerRoundParty<R> implements RoundParty<R> {
  readonly self: string
  private readonly script: URL
  private readonly data: unknown
  private readonly sendersOf: (round: number) => readonly string[]
  private worker: Worker | undefined

  constructor(self: string, script: URL, data: unknown, sendersOf: (round: number) => readonly string[]) {
    this.self = self
    this.script = script
    this.data = data
    this.sendersOf = sendersOf
  }

  senders(round: number): readonly string[] {
    return this.sendersOf(round)
  }

  start(): Promise<RoundStep<R>> {
    const fromSource = this.script.pathname.endsWith('.ts')
    this.worker = new Worker(this.script, {
      workerData: this.data,
      execArgv: fromSource ? ['--import', 'tsx'] : [],
    })
    return this.call(0, undefined)
  }

  receive(round: number, inbound: ReadonlyMap<string, unknown>): Promise<RoundStep<R>> {
    return this.call(round, inbound)
  }

  private call(round: number, inbound: ReadonlyMap<string, unknown> | undefined): Promise<RoundStep<R>> {
    const worker = this.worker
    if (worker === undefined)
      return Promise.reject(new MpcError('CS_MPC_SESSION_FINISHED', 'this key generation already ended'))
    return new Promise<RoundStep<R>>((resolve, reject) => {
      const fail = (error: unknown) => {
        this.stop()
        reject(
          error instanceof MpcError
            ? error
            : new MpcError('CS_MPC_PEER_CHEATED', `key generation worker failed: ${String(error)}`),
        )
      }
      worker.once('error', fail)
      worker.once('message', (reply: Reply<R>) => {
        worker.off('error', fail)
        if (reply.error !== undefined)
          return fail(
            new MpcError(
              reply.error.code,
              reply.error.message,
              reply.error.party === undefined ? undefined : { party: reply.error.party },
            ),
          )
        if (reply.step.finished) this.stop()
        resolve(reply.step)
      })
      worker.postMessage({ round, inbound })
    })
  }

  private stop(): void {
    void this.worker?.terminate()
    this.worker = undefined
  }
}
