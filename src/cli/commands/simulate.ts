import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { Command } from 'commander'
import {
  CALLBACK_DEFAULTS,
  CallbackInputInvalid,
  callHandler,
  loadCallbackKeys,
  type CallHandlerOptions,
  type CallOutcome,
  type Exchange,
} from '../../callback-client/index.js'
import { formatDuration, parseDuration, systemClock } from '../../core/index.js'
import { FIXTURE_NAMES, buildFixture, withFreshIds, type BuiltFixture } from '../../testing/index.js'
import type { CallbackRoute } from '../../protocol/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'

interface SimulateOptions {
  url: string
  cosignerKey?: string
  handlerPubkey?: string
  payload?: string
  fixture?: string
  kind?: string
  signerId?: string
  requestId?: string
  mode: string
  pin?: string
  ca?: string
  retryInterval: string
  maxRetries: string
  timeout: string
  json?: boolean
}

/**
 * Exit codes: 0 APPROVE; 1 REJECT, IGNORE, or RETRY until the retries ran out (the co-signer then fails
 * the request, so it is a "no" as well); 3 the exchange failed (a protocol violation, or no usable HTTP
 * answer); 2 unusable input.
 */
export function outcomeExitCode(outcome: CallOutcome): number {
  if (outcome.type === 'failed') return ExitCode.protocolViolation
  if (outcome.type === 'decided' && outcome.action === 'APPROVE') return ExitCode.ok
  return ExitCode.failed
}

export function resolvePath(io: Io, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path)
}

/** How the handler's TLS certificate is trusted, from `--pin` and `--ca` (both commands, both modes). */
export interface TlsTrust {
  readonly pinnedSpkiSha256?: string
  readonly trustedCa?: string
}

export async function tlsTrustOf(
  io: Io,
  options: { readonly url: string; readonly mode: string; readonly pin?: string; readonly ca?: string },
): Promise<TlsTrust> {
  // Certificate mode refuses http itself, with its own reason (it sends plain JSON).
  const tlsOptions = options.pin !== undefined || options.ca !== undefined
  if (tlsOptions && options.mode !== 'certificate' && !/^https:/i.test(options.url)) {
    throw new CallbackInputInvalid('--pin and --ca apply to TLS: give an https:// handler URL')
  }
  return {
    ...(options.pin === undefined ? {} : { pinnedSpkiSha256: options.pin }),
    ...(options.ca === undefined ? {} : { trustedCa: await readCaFile(io, options.ca) }),
  }
}

async function readCaFile(io: Io, file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(resolvePath(io, file), 'utf8')
  } catch (error) {
    throw new CallbackInputInvalid(
      `cannot read --ca ${file}: ${(error as { code?: string }).code ?? 'I/O error'}`,
      {
        cause: error,
      },
    )
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CallbackInputInvalid(`--ca ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
  }
  return text
}

function routeOf(kind: string | undefined): CallbackRoute | undefined {
  if (kind === undefined) return undefined
  if (kind === 'tx' || kind === 'config') return kind
  throw new CallbackInputInvalid(`--kind must be tx or config, not "${kind}"`)
}

async function loadRequest(io: Io, options: SimulateOptions): Promise<BuiltFixture> {
  const kind = routeOf(options.kind)
  const ids = {
    ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
    ...(options.signerId === undefined ? {} : { signerId: options.signerId }),
  }
  if ((options.payload === undefined) === (options.fixture === undefined)) {
    throw new CallbackInputInvalid('give exactly one of --payload FILE or --fixture NAME')
  }
  if (options.fixture !== undefined) {
    const built = buildFixture(options.fixture, ids)
    if (kind !== undefined && kind !== built.route) {
      throw new CallbackInputInvalid(`fixture "${options.fixture}" is a ${built.route} request, not ${kind}`)
    }
    return built
  }
  const path = resolvePath(io, options.payload!)
  let payload: unknown
  try {
    payload = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'it is not valid JSON' : 'the file cannot be read'
    throw new CallbackInputInvalid(`cannot use --payload ${options.payload}: ${reason}`, { cause: error })
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new CallbackInputInvalid(`--payload ${options.payload} must hold one JSON object`)
  }
  // Like a fixture, the file is a template: a fresh requestId (and txId) unless --request-id names one, so
  // sending one file twice is two requests, not an altered replay of the first.
  const route = kind ?? 'tx'
  return { route, payload: withFreshIds(route, payload as Record<string, unknown>, ids) }
}

function describeExchange(exchange: Exchange): string {
  const answer =
    exchange.response === undefined
      ? ''
      : ` ${exchange.response.action}${exchange.response.rejectionReason === undefined ? '' : ` (${exchange.response.rejectionReason})`}`
  const status = exchange.httpStatus === undefined ? 'no HTTP answer' : `HTTP ${exchange.httpStatus}`
  const problem = exchange.error === undefined ? '' : ` — ${exchange.error.code}: ${exchange.error.message}`
  return `#${exchange.attempt} POST ${exchange.url} → ${status}${answer} in ${Math.round(exchange.durationMs)} ms${problem}`
}

/**
 * A 401 is the handler refusing the request's authentication, not a network fault, though the client
 * reports every non-200 as a transport failure: the causes an operator can check, the signerId first (a
 * fixture's own signerId makes a forgotten --signer-id look like a key problem).
 */
export function refusalCauses(mode: string, signerId: unknown, signerIdGiven: boolean): string {
  const signer = signerIdGiven
    ? `the handler has no API user ${String(signerId)}`
    : `no --signer-id was given, so the payload names the fixture's API user ${String(signerId)}, which your handler may not know: pass --signer-id`
  const key =
    mode === 'jwt'
      ? '; --cosigner-key is not a co-signer key the handler trusts; the two clocks disagree'
      : ''
  return `likely causes of the 401 (the handler refused the request's authentication; nothing failed in transit): ${signer}${key}`
}

export function describeOutcome(outcome: CallOutcome): string {
  switch (outcome.type) {
    case 'decided':
      return `outcome: ${outcome.action}${outcome.rejectionReason === undefined ? '' : ` (${outcome.rejectionReason})`}`
    case 'retries-exhausted':
      return `outcome: RETRY on all ${outcome.attempts} attempts; a co-signer gives up and the request fails`
    case 'failed':
      return `outcome: the exchange failed (${outcome.error.code}): ${outcome.error.message}`
  }
}

async function simulate(io: Io, options: SimulateOptions): Promise<number> {
  const mode = options.mode
  if (mode !== 'jwt' && mode !== 'certificate') {
    throw new CallbackInputInvalid(`--mode must be jwt or certificate, not "${mode}"`)
  }
  const maxRetries = Number(options.maxRetries)
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new CallbackInputInvalid('--max-retries must be a whole number, 0 or more')
  }
  const intervalMs = parseDuration(options.retryInterval, '--retry-interval')
  const { route, payload } = await loadRequest(io, options)
  const common = {
    url: options.url,
    route,
    payload,
    timeoutMs: parseDuration(options.timeout, '--timeout'),
    retry: { intervalMs, maxRetries },
    ...(await tlsTrustOf(io, options)),
    clock: {
      ...systemClock,
      sleep: (ms: number, signal?: AbortSignal) => {
        if (options.json !== true)
          io.out(`   RETRY: waiting ${formatDuration(ms)} before sending the identical request again`)
        return systemClock.sleep(ms, signal)
      },
    },
    onExchange: (exchange: Exchange) => {
      if (options.json !== true) io.out(describeExchange(exchange))
    },
  }
  let callOptions: CallHandlerOptions
  if (mode === 'certificate') {
    callOptions = { ...common, mode }
  } else {
    if (options.cosignerKey === undefined || options.handlerPubkey === undefined) {
      throw new CallbackInputInvalid('JWT mode needs --cosigner-key and --handler-pubkey')
    }
    const keys = await loadCallbackKeys({
      cosignerKeyPath: resolvePath(io, options.cosignerKey),
      handlerPublicKeyPath: resolvePath(io, options.handlerPubkey),
    })
    callOptions = { ...common, mode, ...keys }
  }
  if (options.json !== true) io.out(`${route} request ${String(payload.requestId)} (${mode} mode)`)
  const { outcome, transcript } = await callHandler(callOptions)
  if (options.json === true) {
    const error =
      outcome.type === 'failed' ? { code: outcome.error.code, message: outcome.error.message } : undefined
    io.out(
      JSON.stringify({
        route,
        requestId: payload.requestId,
        outcome: error === undefined ? outcome : { type: outcome.type, error },
        transcript,
      }),
    )
  } else {
    io.out(describeOutcome(outcome))
    if (outcome.type === 'failed' && (outcome.error as { httpStatus?: number }).httpStatus === 401)
      io.out(refusalCauses(mode, payload.signerId, options.signerId !== undefined))
  }
  return outcomeExitCode(outcome)
}

export function registerSimulateCommands(program: Command, context: ProgramContext): void {
  program
    .command('simulate')
    .description(
      'act as a co-signer: send one signed request to a callback handler, follow RETRY, verify the answer\n' +
        'exit 0 APPROVE; 1 REJECT, IGNORE or retries exhausted; 3 protocol violation or no usable answer; 2 bad input',
    )
    .requiredOption(
      '--url <url>',
      'the handler BASE URL configured in the co-signer (/v2/tx_sign_request is appended)',
    )
    .option('--cosigner-key <file>', 'co-signer private key that signs the request (JWT mode)')
    .option('--handler-pubkey <file>', 'handler public key that must have signed the answer (JWT mode)')
    .option('--payload <file>', 'JSON payload to send, with a fresh requestId (and txId) unless --request-id')
    .option('--fixture <name>', `a built-in payload: ${FIXTURE_NAMES.join(', ')}`)
    .option('--kind <kind>', 'tx or config (with --payload; default tx)')
    .option('--signer-id <id>', 'set signerId (the API user) in the payload')
    .option('--request-id <id>', 'set requestId instead of a fresh random one (to replay a request)')
    .option('--mode <mode>', 'jwt, or certificate (plain JSON over pinned TLS)', 'jwt')
    .option(
      '--pin <sha256>',
      "SHA-256 of the handler's TLS SPKI PEM (as `countersign keys fingerprint cert.pem` prints)",
    )
    .option(
      '--retry-interval <duration>',
      'wait between RETRY answers',
      formatDuration(CALLBACK_DEFAULTS.retryIntervalMs),
    )
    .option(
      '--max-retries <n>',
      'RETRY answers followed before giving up',
      String(CALLBACK_DEFAULTS.maxRetries),
    )
    .option('--ca <file>', "PEM certificates to trust for the handler's TLS (a private CA or self-signed)")
    .option('--timeout <duration>', 'deadline of each attempt', formatDuration(CALLBACK_DEFAULTS.timeoutMs))
    .option('--json', 'print one JSON object (transcript and outcome) instead of lines')
    .action(action(context, (options: SimulateOptions) => simulate(context.io, options)))
}
