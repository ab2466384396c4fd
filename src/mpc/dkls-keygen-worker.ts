import { parentPort, workerData } from 'node:worker_threads'
import { DklsKeygenParty, type DklsKeygenOptions } from './dkls-keygen.js'
import { MpcError } from './errors.js'

/** Runs one party's DKLs key generation (≈1.4 s of CPU) off the caller's event loop. */
const party = new DklsKeygenParty(workerData as DklsKeygenOptions)

parentPort?.on('message', (request: { round: number; inbound?: ReadonlyMap<string, unknown> }) => {
  const step =
    request.round === 0 ? party.start() : party.receive(request.round, request.inbound ?? new Map())
  step.then(
    (result) => parentPort?.postMessage({ step: result }),
    (error: unknown) =>
      parentPort?.postMessage({
        error:
          error instanceof MpcError
            ? { code: error.code, message: error.message, party: error.party }
            : { code: 'CS_MPC_PEER_CHEATED', message: String(error) },
      }),
  )
})
