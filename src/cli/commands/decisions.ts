import { Option, type Command } from 'commander'
import { parseSince } from '../../core/index.js'
import { ConfigInvalid, describeRequest, requestView } from '../../handler/index.js'
import { CALLBACK_ROUTES } from '../../protocol/index.js'
import type { DecisionDetail, DecisionFilter, Route } from '../../storage/index.js'
import { decisionJson, describeDecision, describeVotes } from '../decision-view.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

/** `countersign decisions list | show`: what the handler decided, read from its store, never changed. */

const DEFAULT_LIMIT = '50'

interface ListOptions extends StoreOptions {
  readonly since?: string
  readonly action?: string
  readonly rule?: string
  readonly destination?: string
  readonly txId?: string
  readonly route?: Route
  readonly limit: string
  readonly json?: boolean
}

function filterOf(options: ListOptions, now: number): DecisionFilter {
  const limit = Number(options.limit)
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new ConfigInvalid([`--limit: "${options.limit}" is not a whole number of at least 1`])
  return {
    limit,
    ...(options.since === undefined ? {} : { sinceMs: parseSince(options.since, now, '--since') }),
    ...(options.action === undefined ? {} : { action: options.action.toUpperCase() }),
    ...(options.rule === undefined ? {} : { ruleId: options.rule }),
    ...(options.destination === undefined ? {} : { destination: options.destination }),
    ...(options.txId === undefined ? {} : { txId: options.txId }),
    ...(options.route === undefined ? {} : { route: options.route }),
  }
}

function printDetail(io: Io, decision: DecisionDetail): void {
  const view = requestView(decision.route, decision.request)
  const lines = [
    `request   ${decision.requestId} (route ${decision.route}, kind ${decision.kind}, signer ${decision.signerId ?? '-'})`,
    `answer    ${decision.action}${decision.status === 'held' ? ' (held for approvers)' : ''}`,
    `rule      ${decision.ruleId ?? '-'}`,
    `reason    ${decision.reason ?? '-'}`,
    `policy    version ${decision.policyVersion}, digest ${decision.policyDigest}`,
    `asks      ${describeRequest(view)}${view.txId === null ? '' : `, txId ${view.txId}`}`,
    `decided   ${decision.decidedAt.toISOString()}, last updated ${decision.updatedAt.toISOString()}`,
  ]
  if (decision.hold !== null) {
    const { quorum, approvers, ttlMs } = decision.hold
    lines.push(`hold      ${quorum} of [${approvers.join(', ')}] within ${Math.round(ttlMs / 60_000)}m`)
  }
  if (decision.hold !== null || decision.votes.length > 0)
    lines.push(`votes     ${describeVotes(decision.votes)}`)
  lines.push('trace', JSON.stringify(decision.trace, null, 2))
  io.out(lines.join('\n'))
}

function registerList(decisions: Command, context: ProgramContext): void {
  withStoreOptions(decisions.command('list'))
    .description('recorded decisions, newest first')
    .option('--since <time>', 'ISO date/time or a duration back from now (7d, 12h)')
    .option('--action <action>', 'APPROVE, REJECT, IGNORE or RETRY (RETRY: still held)')
    .option('--rule <id>', 'the guard or rule that decided')
    .option('--destination <address>', 'a destination address or id')
    .option('--tx-id <id>', 'a Fireblocks transaction id')
    .addOption(new Option('--route <route>', 'tx or config').choices(CALLBACK_ROUTES))
    .option('--limit <n>', 'at most this many', DEFAULT_LIMIT)
    .option('--json', 'one JSON array instead of text lines')
    .action(
      action(context, (options: ListOptions) => {
        const filter = filterOf(options, Date.now())
        return withStore(options, context.io, async (store) => {
          const found = await store.findDecisions(filter)
          if (options.json) context.io.out(JSON.stringify(found.map((item) => decisionJson(item, false))))
          else if (found.length === 0) context.io.out('no decision matches')
          else for (const item of found) context.io.out(describeDecision(item))
          return ExitCode.ok
        })
      }),
    )
}

function registerShow(decisions: Command, context: ProgramContext): void {
  withStoreOptions(decisions.command('show <requestId>'))
    .description('everything recorded about one request: answer, rule, reason, policy, votes and trace')
    .addOption(
      new Option('--route <route>', 'tx or config (when the id arrived on both)').choices(CALLBACK_ROUTES),
    )
    .option('--json', 'a JSON array (one entry per route the id arrived on) instead of text')
    .action(
      action(context, (requestId: string, options: StoreOptions & { route?: Route; json?: boolean }) =>
        withStore(options, context.io, async (store) => {
          const found = await store.readDecision(requestId, options.route)
          if (found.length === 0) {
            context.io.err(
              `no decision is recorded for request ${requestId}${options.route ? ` on route ${options.route}` : ''}`,
            )
            return ExitCode.failed
          }
          // Always an array: a requestId may have arrived on both routes.
          if (options.json) context.io.out(JSON.stringify(found.map((item) => decisionJson(item, true))))
          else {
            found.forEach((item, index) => {
              if (index > 0) context.io.out('')
              printDetail(context.io, item)
            })
          }
          return ExitCode.ok
        }),
      ),
    )
}

export function registerDecisionsCommands(program: Command, context: ProgramContext): void {
  const decisions = program.command('decisions').description("the handler's recorded decisions (read-only)")
  registerList(decisions, context)
  registerShow(decisions, context)
}
