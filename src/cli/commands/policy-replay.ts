import { resolve } from 'node:path'
import type { Command } from 'commander'
import { decideNow, loadPolicyFile, ZERO_FIGURES, type CompiledPolicy } from '../../policy/index.js'
import { RequestKind, parseCallbackRequest, type CallbackRoute } from '../../protocol/index.js'
import type { RecordedDecision } from '../../storage/index.js'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { parseSince } from '../../core/index.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

/** What a policy did with a request, comparable across policies: a hold is its own outcome. */
type Outcome = string

interface Replayed {
  readonly recorded: RecordedDecision
  readonly candidate: Outcome
  readonly candidateRule: string | null
}

function recordedOutcome(decision: RecordedDecision): Outcome {
  return decision.heldByPolicy ? 'HOLD' : decision.action
}

/**
 * Re-decides one recorded request with the candidate, at the time it was decided and with the velocity
 * figures recorded then; a window the recorded policy did not have starts from zero.
 */
function replayOne(candidate: CompiledPolicy, recorded: RecordedDecision): Replayed {
  const route: CallbackRoute = recorded.kind === RequestKind.configChange ? 'config' : 'tx'
  let parsed
  try {
    parsed = parseCallbackRequest(route, recorded.request)
  } catch {
    // A malformed request is rejected before any policy runs, whichever policy it is.
    return { recorded, candidate: 'REJECT', candidateRule: null }
  }
  const input = { kind: recorded.kind as RequestKind, request: parsed.request, now: recorded.decidedAt }
  let decision
  try {
    decision = decideNow(
      candidate,
      input,
      (probe) =>
        recorded.velocity.find(
          (figures) => figures.windowId === probe.windowId && figures.groupKey === probe.groupKey,
        ) ?? ZERO_FIGURES,
    )
  } catch {
    // The candidate cannot read the request's amount: the handler would reject it.
    return { recorded, candidate: 'REJECT', candidateRule: null }
  }
  return { recorded, candidate: decision.require ? 'HOLD' : decision.action, candidateRule: decision.ruleId }
}

function replayJson(candidate: CompiledPolicy, replayed: number, changed: readonly Replayed[]) {
  return {
    replayed,
    candidateVersion: candidate.version,
    changed: changed.map(({ recorded, candidate: outcome, candidateRule }) => ({
      requestId: recorded.requestId,
      kind: recorded.kind,
      recorded: {
        outcome: recordedOutcome(recorded),
        ruleId: recorded.ruleId,
        policyVersion: recorded.policyVersion,
      },
      candidate: { outcome, ruleId: candidateRule },
    })),
  }
}

export function registerPolicyReplayCommand(policy: Command, context: ProgramContext): void {
  withStoreOptions(policy.command('replay'))
    .description(
      're-decide recorded requests with a candidate policy and list every one whose outcome would change\n(exit 0 none would change, 1 some would, 2 unusable input)',
    )
    .requiredOption('--candidate <file>', 'the candidate policy file')
    .option('--since <time>', 'ISO date/time or a duration back from now', '7d')
    .option('--json', 'one JSON object {replayed, candidateVersion, changed}')
    .action(
      action(context, (options: StoreOptions & { candidate: string; since: string; json?: boolean }) => {
        const candidate = loadPolicyFile(resolve(context.io.cwd, options.candidate))
        const since = parseSince(options.since, Date.now(), '--since')
        return withStore(options, context.io, async (store) => {
          const replayed = (await store.listDecisions(since)).map((recorded) =>
            replayOne(candidate, recorded),
          )
          const changed = replayed.filter((item) => item.candidate !== recordedOutcome(item.recorded))
          if (options.json) {
            context.io.out(JSON.stringify(replayJson(candidate, replayed.length, changed)))
            return changed.length === 0 ? ExitCode.ok : ExitCode.failed
          }
          for (const { recorded, candidate: outcome, candidateRule } of changed) {
            context.io.out(
              `${recorded.requestId}  ${recorded.kind}  ${recordedOutcome(recorded)} (rule ${recorded.ruleId ?? 'default'}, policy ${recorded.policyVersion}) → ${outcome} (rule ${candidateRule ?? 'default'})`,
            )
          }
          context.io.out(
            `${replayed.length} recorded decisions replayed with policy ${candidate.version}: ${changed.length} would change`,
          )
          return changed.length === 0 ? ExitCode.ok : ExitCode.failed
        })
      }),
    )
}
