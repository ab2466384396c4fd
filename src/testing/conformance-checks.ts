import {
  CONFIG_CHANGE_TYPES,
  signCallbackRequest,
  type AuthMode,
  type CallbackRoute,
} from '../protocol/index.js'
import {
  alterPayload,
  forgeAlgNone,
  forgeHs256WithPublicKey,
  forgeSignedByStranger,
  truncate,
} from './forgeries.js'
import { buildFixture, configChangePayload, multiDestinationPayload } from './fixtures.js'
import { answerOf, describeProbe, type JwtKeys, type Probe, type Prober } from './prober.js'

export const CheckStatus = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus]

export interface CheckVerdict {
  readonly status: CheckStatus
  readonly reason: string
}

/** The genuine requests every other check leans on: one per route, sent first. */
export interface Baseline {
  readonly tx: { readonly requestId: string; readonly probe: Probe }
  readonly config: { readonly requestId: string; readonly probe: Probe }
  /** True when at least one genuine request got a verified answer, so refusals elsewhere mean something. */
  readonly usable: boolean
}

export interface ConformanceCheck {
  readonly id: string
  readonly title: string
  /** Sends genuine or hostile requests whose answers mean something only if genuine ones are answered. */
  readonly needsBaseline?: boolean
  /** The one mode the check means something in, and why; it runs in every mode when absent. */
  readonly only?: { readonly mode: AuthMode; readonly why: string }
  run(prober: Prober, baseline: Baseline): Promise<CheckVerdict>
}

const pass = (reason: string): CheckVerdict => ({ status: CheckStatus.pass, reason })
const fail = (reason: string): CheckVerdict => ({ status: CheckStatus.fail, reason })
const skip = (reason: string): CheckVerdict => ({ status: CheckStatus.skip, reason })

export const NO_BASELINE = skip(
  'no genuine request got a valid answer (see routes-answer), so this proves nothing',
)

/** The verdict of a check that means nothing in the run's mode. */
export function notInMode(only: { readonly mode: AuthMode; readonly why: string }): CheckVerdict {
  return skip(`${only.mode} mode only: ${only.why}`)
}

const SIGNATURES_ONLY = {
  mode: 'jwt',
  why: 'certificate mode has no request signature to forge (the TLS channel alone authenticates)',
} as const

export async function sendBaseline(prober: Prober): Promise<Baseline> {
  const tx = approvalPayload(prober)
  const config = configChangePayload('UNMANAGED_WALLET', signerOf(prober))
  const txProbe = await prober.send('tx', tx)
  const configProbe = await prober.send('config', config)
  return {
    tx: { requestId: String(tx.requestId), probe: txProbe },
    config: { requestId: String(config.requestId), probe: configProbe },
    usable: answerOf(txProbe) !== undefined || answerOf(configProbe) !== undefined,
  }
}

function signerOf(prober: Prober): { signerId?: string } {
  return prober.target.signerId === undefined ? {} : { signerId: prober.target.signerId }
}

function approvalPayload(prober: Prober): Record<string, unknown> {
  return buildFixture('eth-transfer-approval', signerOf(prober)).payload
}

/** The same transfer for 1000 times the amount, in every amount field. */
function inflateAmount(payload: Record<string, unknown>): Record<string, unknown> {
  const times = (value: unknown) => (typeof value === 'string' ? `${value}000` : Number(value) * 1000)
  const destinations = (payload.destinations as Record<string, unknown>[]).map((destination) => ({
    ...destination,
    amountNative: times(destination.amountNative),
    amountNativeStr: times(destination.amountNativeStr),
    amountUSD: times(destination.amountUSD),
  }))
  return {
    ...payload,
    amount: times(payload.amount),
    amountStr: times(payload.amountStr),
    requestedAmount: times(payload.requestedAmount),
    requestedAmountStr: times(payload.requestedAmountStr),
    destinations,
  }
}

function baselineProbes(baseline: Baseline): [CallbackRoute, Probe][] {
  return [
    ['tx', baseline.tx.probe],
    ['config', baseline.config.probe],
  ]
}

/**
 * An attack check: a hostile request must never be approved. A 401, a signed REJECT or any non-approval
 * passes; an APPROVE fails even when the handler's own answer is unsigned or malformed.
 */
function attack(
  id: string,
  title: string,
  forge: (prober: Prober, keys: JwtKeys) => Promise<Probe>,
): ConformanceCheck {
  return {
    id,
    title,
    needsBaseline: true,
    only: SIGNATURES_ONLY,
    run: async (prober) => {
      const probe = await forge(prober, prober.jwtKeys())
      if (probe.claimedAction === 'APPROVE') return fail(`approved it: ${describeProbe(probe)}`)
      return pass(`not approved: ${describeProbe(probe)}`)
    },
  }
}

/**
 * A genuine request must get a verified answer; `undefined` when it did. Whether that answer echoes the
 * requestId is graded by `request-id-echoed` alone, so one flaw fails one check.
 */
function unanswered(probe: Probe, what: string): string | undefined {
  return answerOf(probe) === undefined ? `${what} got ${describeProbe(probe)}` : undefined
}

export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  {
    id: 'routes-answer',
    title: 'both routes answer HTTP 200',
    run: async (_prober, baseline) => {
      const lines = baselineProbes(baseline).map(([route, probe]) => `${route}: ${describeProbe(probe)}`)
      const ok = baselineProbes(baseline).every(([, probe]) => probe.status === 200)
      return ok ? pass(lines.join('; ')) : fail(lines.join('; '))
    },
  },
  {
    id: 'tls-key-pinned',
    title: "the handler's TLS public key matches the pin",
    only: { mode: 'certificate', why: 'JWT-mode answers are authenticated by the handler signature' },
    // The pin is checked after the handshake and before a byte is sent: any HTTP answer proves a match.
    run: async (prober, baseline) => {
      const mismatch = baselineProbes(baseline).find(([, probe]) => probe.pinMismatch)
      if (mismatch !== undefined) return fail(`${mismatch[0]}: ${mismatch[1].transportError ?? ''}`)
      const connected = baselineProbes(baseline).filter(([, probe]) => probe.status !== undefined)
      if (connected.length === 0) return skip('no TLS connection completed (see routes-answer)')
      return pass(`${connected.map(([route]) => route).join(' and ')}: the key matches ${prober.pin ?? ''}`)
    },
  },
  {
    id: 'signed-by-handler-key',
    title: 'answers are RS256 JWTs signed by the handler key',
    only: {
      mode: 'jwt',
      why: 'certificate-mode answers are plain JSON, authenticated by the TLS pin (see tls-key-pinned)',
    },
    run: async (_prober, baseline) => {
      const answered = baselineProbes(baseline).filter(([, probe]) => probe.status === 200)
      if (answered.length === 0) return skip('no route answered HTTP 200')
      const bad = answered.find(([, probe]) => probe.read?.ok === false && probe.read.stage === 'signature')
      if (bad !== undefined) return fail(`${bad[0]}: ${bad[1].read?.ok === false ? bad[1].read.reason : ''}`)
      return pass(`${answered.map(([route]) => route).join(' and ')} answers verify`)
    },
  },
  {
    id: 'claim-names',
    title: 'the answer holds exactly action, requestId, rejectionReason? (and iat? in a JWT)',
    run: async (prober, baseline) => {
      const readable = baselineProbes(baseline).filter(
        ([, probe]) => probe.read?.ok === true || probe.read?.stage === 'claims',
      )
      if (readable.length === 0) {
        return skip(
          prober.mode === 'jwt'
            ? 'no answer with a valid signature to read claims from'
            : 'no HTTP 200 answer',
        )
      }
      const bad = readable.find(([, probe]) => probe.read?.ok === false)
      if (bad !== undefined) return fail(`${bad[0]}: ${bad[1].read?.ok === false ? bad[1].read.reason : ''}`)
      return pass(`lower-camel ${prober.mode === 'jwt' ? 'claim' : 'JSON field'} names, nothing else`)
    },
  },
  {
    id: 'request-id-echoed',
    title: 'requestId is echoed',
    run: async (_prober, baseline) => {
      const pairs = [baseline.tx, baseline.config].flatMap(({ requestId, probe }) => {
        const answer = answerOf(probe)
        return answer === undefined ? [] : [{ sent: requestId, got: answer.requestId }]
      })
      if (pairs.length === 0) return skip('no readable answer')
      const wrong = pairs.find(({ sent, got }) => sent !== got)
      if (wrong !== undefined) return fail(`sent requestId "${wrong.sent}", the answer names "${wrong.got}"`)
      return pass(`${pairs.length} of ${pairs.length} answers echo the requestId`)
    },
  },
  attack('forged-signature', 'a request signed by another RSA key is never approved', async (prober) =>
    prober.raw('tx', await forgeSignedByStranger(approvalPayload(prober))),
  ),
  attack('tampered-payload', 'a payload altered after signing is never approved', async (prober, keys) => {
    const payload = approvalPayload(prober)
    const token = await signCallbackRequest(payload, keys.cosignerKey)
    return prober.raw('tx', alterPayload(token, inflateAmount(payload)))
  }),
  attack('alg-none', 'an alg:none token is never approved', async (prober) =>
    prober.raw('tx', forgeAlgNone(approvalPayload(prober))),
  ),
  attack(
    'hs256-public-key',
    'HS256 keyed with the co-signer public key is never approved',
    async (prober, keys) =>
      prober.raw('tx', forgeHs256WithPublicKey(approvalPayload(prober), keys.cosignerPublicKey)),
  ),
  attack('truncated-token', 'a truncated token is never approved', async (prober, keys) =>
    prober.raw('tx', truncate(await signCallbackRequest(approvalPayload(prober), keys.cosignerKey))),
  ),
  attack('unsigned-json', 'an unsigned JSON body is never approved', async (prober) =>
    prober.raw('tx', JSON.stringify(approvalPayload(prober)), 'application/json'),
  ),
  {
    id: 'retry-same-action',
    title: 'a retried request gets the same action',
    needsBaseline: true,
    run: async (prober) => {
      // The identical bytes twice, as a co-signer retries: one JWT signed once, or one JSON text.
      const body = await prober.encode(approvalPayload(prober))
      const first = await prober.raw('tx', body)
      const again = await prober.raw('tx', body)
      const missing = unanswered(first, 'the first send') ?? unanswered(again, 'the identical resend')
      if (missing !== undefined) return fail(missing)
      const [a, b] = [answerOf(first)!, answerOf(again)!]
      if (a.action === b.action) return pass(`${a.action} both times`)
      // A held request may be decided between two sends; any other change is a new answer to the same request.
      if (a.action === 'RETRY') return pass(`RETRY, then decided ${b.action}`)
      return fail(`answered ${a.action}, then ${b.action} to the identical request`)
    },
  },
  {
    id: 'altered-amount',
    title: 'a known requestId with an altered amount is not approved',
    needsBaseline: true,
    run: async (prober) => {
      const payload = approvalPayload(prober)
      const first = await prober.send('tx', payload)
      const missing = unanswered(first, 'the original request')
      if (missing !== undefined) return fail(missing)
      const altered = await prober.send('tx', inflateAmount(payload))
      const summary = `original: ${describeProbe(first)}; same requestId, 1000x amount: ${describeProbe(altered)}`
      return altered.claimedAction === 'APPROVE' ? fail(summary) : pass(summary)
    },
  },
  {
    id: 'no-ignore-on-signing',
    title: 'IGNORE never answers a signing request',
    needsBaseline: true,
    run: async (prober) => {
      const results: string[] = []
      for (const name of ['eth-transfer-signing', 'btc-one-time-address']) {
        const { payload } = buildFixture(name, signerOf(prober))
        const probe = await prober.send('tx', payload)
        if (probe.claimedAction === 'IGNORE') return fail(`${name} (signing stage) was answered IGNORE`)
        const missing = unanswered(probe, name)
        if (missing !== undefined) return fail(missing)
        results.push(`${name}: ${describeProbe(probe)}`)
      }
      return pass(results.join('; '))
    },
  },
  {
    id: 'unknown-fields',
    title: 'unknown extra fields are tolerated',
    needsBaseline: true,
    run: async (prober) => {
      const plain = approvalPayload(prober)
      const plainProbe = await prober.send('tx', plain)
      const extended = approvalPayload(prober)
      extended.travelRuleStatus = { provider: 'notabene', state: 'COMPLETED' }
      ;(extended.destinations as Record<string, unknown>[])[0]!.screening = { risk: 'LOW', score: 3 }
      const extendedProbe = await prober.send('tx', extended)
      const missing =
        unanswered(plainProbe, 'the plain request') ??
        unanswered(extendedProbe, 'the request with unknown fields')
      if (missing !== undefined) return fail(missing)
      const [a, b] = [answerOf(plainProbe)!.action, answerOf(extendedProbe)!.action]
      return a === b
        ? pass(`${b}, as without the extra fields`)
        : fail(`${a} without extra fields, ${b} with them`)
    },
  },
  {
    id: 'fifty-destinations',
    title: 'a 50-destination payload is handled',
    needsBaseline: true,
    run: async (prober) => {
      const payload = multiDestinationPayload(50, signerOf(prober))
      const probe = await prober.send('tx', payload)
      const missing = unanswered(probe, 'the 50-destination request')
      return missing === undefined ? pass(describeProbe(probe)) : fail(missing)
    },
  },
  {
    id: 'config-change-types',
    title: 'every config-change type gets a valid action',
    needsBaseline: true,
    run: async (prober) => {
      const failures: string[] = []
      for (const type of CONFIG_CHANGE_TYPES) {
        const payload = configChangePayload(type, signerOf(prober))
        const missing = unanswered(await prober.send('config', payload), type)
        if (missing !== undefined) failures.push(missing)
      }
      if (failures.length > 0) return fail(failures.join('; '))
      return pass(`${CONFIG_CHANGE_TYPES.length} types answered`)
    },
  },
  {
    // Runs last: it grades every request the suite sent.
    id: 'answers-within-30s',
    title: 'each answer arrives within the deadline',
    run: async (prober) => {
      const { slowestMs, requests, answered, timeouts } = prober.timing
      if (timeouts.length > 0) return fail(`${timeouts.length} of ${requests} requests got no answer in time`)
      if (answered === 0) return skip(`none of ${requests} requests got an answer (see routes-answer)`)
      return pass(`slowest of ${requests} answers: ${Math.round(slowestMs)} ms`)
    },
  },
]
