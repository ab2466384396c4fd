import type { Command } from 'commander'
import { resolveHold } from '../../policy/index.js'
import type { HeldRequest } from '../../storage/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

function describe(held: HeldRequest, now: Date): string {
  const state = resolveHold(held.hold, held.heldAt, held.votes, now)
  const expires = new Date(held.heldAt.getTime() + held.hold.ttlMs).toISOString()
  const request = held.request as Record<string, unknown>
  const what =
    held.kind === 'config_change'
      ? `${String(request.type)}`
      : `${String(request.amountStr ?? '?')} ${String(request.asset ?? '')} to ${String(request.destAddress ?? request.destId ?? '?')}`
  const votes = held.votes.map((vote) => `${vote.approver}:${vote.vote}`).join(' ') || 'none'
  return `${held.requestId}  ${held.kind}  ${what}  rule=${held.ruleId ?? '-'}  needs ${held.hold.quorum} of [${held.hold.approvers.join(', ')}]  votes: ${votes}  state: ${state.state}  expires ${expires}`
}

function vote(context: ProgramContext, kind: 'approve' | 'reject') {
  return action(context, (requestId: string, options: StoreOptions & { as: string; reason?: string }) =>
    withStore(options, context.io, async (store) => {
      const held = await store.castVote({
        requestId,
        approver: options.as,
        vote: kind,
        ...(options.reason ? { reason: options.reason } : {}),
      })
      context.io.out(
        `${kind === 'approve' ? 'approval' : 'rejection'} by ${options.as} recorded; the co-signer's next retry gets the decision`,
      )
      context.io.out(describe(held, new Date()))
      return ExitCode.ok
    }),
  )
}

export function registerApprovalsCommands(program: Command, context: ProgramContext): void {
  const approvals = program.command('approvals').description('requests held for a human quorum')
  withStoreOptions(approvals.command('list'))
    .description('list held requests with their votes')
    .action(
      action(context, (options: StoreOptions) =>
        withStore(options, context.io, async (store) => {
          const held = await store.listHeld()
          const io: Io = context.io
          if (held.length === 0) io.out('no requests are awaiting approval')
          for (const item of held) io.out(describe(item, new Date()))
          return ExitCode.ok
        }),
      ),
    )
  withStoreOptions(approvals.command('approve <requestId>'))
    .description('approve a held request')
    .requiredOption('--as <name>', 'the approver, as listed in the policy rule')
    .action(vote(context, 'approve'))
  withStoreOptions(approvals.command('reject <requestId>'))
    .description('veto a held request (one veto rejects it)')
    .requiredOption('--as <name>', 'the approver, as listed in the policy rule')
    .requiredOption('--reason <text>', 'why, recorded in the audit log and sent as rejectionReason')
    .action(vote(context, 'reject'))
}
