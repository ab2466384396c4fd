import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { checkVote, readStatementPrivateKey, signVote, spkiFingerprint } from '../../keys/index.js'
import { CALLBACK_ROUTES } from '../../protocol/index.js'
import {
  NotFound,
  StoreConflict,
  VoteRefused,
  type HeldRequest,
  type Route,
  type Store,
} from '../../storage/index.js'
import { describeHeld, heldJson } from '../decision-view.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

interface VoteOptions extends StoreOptions {
  readonly key: string
  readonly as?: string
  readonly route?: Route
  readonly reason?: string
}

/** The held request a vote is for; the route is needed only when the requestId is held on both. */
async function findHeld(store: Store, requestId: string, route: Route | undefined): Promise<HeldRequest> {
  const held = (await store.listHeld()).filter(
    (item) => item.requestId === requestId && (route === undefined || item.route === route),
  )
  if (held.length === 0)
    throw new NotFound(`no request with id ${requestId} is awaiting approval (countersign approvals list)`)
  if (held.length > 1)
    throw new StoreConflict(
      `request ${requestId} is held on both routes: name the route with --route tx|config`,
    )
  return held[0]!
}

/** `approvals show`: the held request, or a refusal that says what became of a request no longer held. */
async function heldOrExplain(store: Store, requestId: string, route: Route | undefined) {
  try {
    return await findHeld(store, requestId, route)
  } catch (error) {
    if (!(error instanceof NotFound)) throw error
    const [decided] = await store.readDecision(requestId, route)
    if (decided === undefined) throw error
    throw new NotFound(
      `request ${requestId} is not held: it was answered ${decided.action} (countersign decisions show ${requestId})`,
    )
  }
}

/** The registered approver whose public key is the key's; `--as`, when given, must name that approver. */
async function approverOf(store: Store, fingerprint: string, keyFile: string, as: string | undefined) {
  const approver = (await store.listApprovers()).find((candidate) => candidate.fingerprint === fingerprint)
  if (approver === undefined)
    throw new VoteRefused(
      `vote refused: the key ${keyFile} (sha256 ${fingerprint}) is not registered to any approver: register its public key with countersign approvers add NAME --public-key FILE`,
    )
  if (as !== undefined && as !== approver.id)
    throw new VoteRefused(
      `vote refused: --as ${as} does not match the key ${keyFile}, which is registered to ${approver.id}`,
    )
  return approver.id
}

function vote(context: ProgramContext, decision: 'approve' | 'reject') {
  const { io } = context
  return action(context, async (requestId: string, options: VoteOptions) => {
    const privateKey = await readStatementPrivateKey(resolve(io.cwd, options.key), options.key)
    return withStore(options, io, async (store) => {
      const approver = await approverOf(store, spkiFingerprint(privateKey), options.key, options.as)
      const held = await findHeld(store, requestId, options.route)
      const facts = {
        route: held.route,
        requestId,
        payloadDigest: held.payloadDigest,
        decision,
        approver,
        reason: options.reason ?? null,
        signedAt: Date.now(),
      }
      const recorded = await store.castVote(
        held,
        { ...facts, signature: signVote(facts, privateKey) },
        checkVote,
      )
      io.out(
        `${decision === 'approve' ? 'approval' : 'rejection'} by ${approver} signed and recorded; the co-signer's next retry gets the decision`,
      )
      io.out(describeHeld(recorded, new Date()))
      return ExitCode.ok
    })
  })
}

const routeOption = () =>
  new Option('--route <route>', 'the route, when the requestId is held on both').choices(CALLBACK_ROUTES)

function withVoteOptions(command: Command): Command {
  return withStoreOptions(command)
    .requiredOption('--key <file>', "the approver's private key (countersign keys generate --for approver)")
    .option('--as <name>', 'the approver the key is registered to (checked; refused when it is not)')
    .addOption(routeOption())
}

function registerShow(approvals: Command, context: ProgramContext): void {
  withStoreOptions(approvals.command('show <requestId>'))
    .description('one held request in full: what it is, its rule and reason, quorum, votes and the trace')
    .addOption(routeOption())
    .option('--json', 'one JSON object')
    .action(
      action(context, (requestId: string, options: StoreOptions & { route?: Route; json?: boolean }) =>
        withStore(options, context.io, async (store) => {
          const held = await heldOrExplain(store, requestId, options.route)
          const [recorded] = await store.readDecision(requestId, held.route)
          const trace = recorded?.trace ?? null
          const now = new Date()
          if (options.json === true) context.io.out(JSON.stringify({ ...heldJson(held, now), trace }))
          else context.io.out([describeHeld(held, now), 'trace', JSON.stringify(trace, null, 2)].join('\n'))
          return ExitCode.ok
        }),
      ),
    )
}

export function registerApprovalsCommands(program: Command, context: ProgramContext): void {
  const approvals = program.command('approvals').description('requests held for a human quorum')
  withStoreOptions(approvals.command('list'))
    .description(
      'list held requests: what each is (USD amount, asset, source, destination), its rule and votes',
    )
    .option('--json', 'one JSON array')
    .action(
      action(context, (options: StoreOptions & { json?: boolean }) =>
        withStore(options, context.io, async (store) => {
          const held = await store.listHeld()
          const io: Io = context.io
          const now = new Date()
          if (options.json === true) io.out(JSON.stringify(held.map((item) => heldJson(item, now))))
          else if (held.length === 0) io.out('no requests are awaiting approval')
          else for (const item of held) io.out(describeHeld(item, now))
          return ExitCode.ok
        }),
      ),
    )
  registerShow(approvals, context)
  withVoteOptions(approvals.command('approve <requestId>'))
    .description('approve a held request with a vote signed by your approver key')
    .option('--reason <text>', 'recorded in the audit log')
    .action(vote(context, 'approve'))
  withVoteOptions(approvals.command('reject <requestId>'))
    .description('veto a held request with a signed vote (one veto rejects it)')
    .requiredOption('--reason <text>', 'why, recorded in the audit log and sent as rejectionReason')
    .action(vote(context, 'reject'))
}
