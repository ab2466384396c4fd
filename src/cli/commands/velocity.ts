import { resolve } from 'node:path'
import type { Command } from 'commander'
import { formatDuration } from '../../core/index.js'
import { ConfigInvalid, loadConfigFile } from '../../handler/index.js'
import { readVelocityWindows, type WindowDeclaration } from '../../policy/index.js'
import type { WindowUsage } from '../../storage/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

interface ShowOptions extends StoreOptions {
  readonly policy?: string
  readonly json?: boolean
}

/** The policy whose windows to show: `--policy`, else the one the handler configuration names. */
function policyPathOf(options: ShowOptions, io: Io): string {
  if (options.policy !== undefined) return resolve(io.cwd, options.policy)
  if (options.config !== undefined) return loadConfigFile(resolve(io.cwd, options.config), io.env).policyPath
  throw new ConfigInvalid(['velocity show needs the policy: pass --policy FILE or --config FILE'])
}

function usageRows(windows: readonly WindowDeclaration[], usage: readonly WindowUsage[]) {
  return windows.flatMap((window) =>
    usage
      .filter((item) => item.windowId === window.id)
      .map((item) => ({
        window: window.id,
        length: formatDuration(window.windowMs),
        group: item.groupKey,
        sumUsd: item.sumUsdCents / 100,
        count: item.count,
        limits: window.limits.map((limit) => ({
          ...limit,
          used: (limit.metric === 'sum_usd' ? item.sumUsdCents / 100 : item.count) / limit.value,
        })),
      })),
  )
}

function describeRow(row: ReturnType<typeof usageRows>[number]): string {
  const limits = row.limits.map(
    (limit) =>
      `${Math.round(limit.used * 100)}% of ${limit.metric === 'sum_usd' ? `${limit.value.toFixed(2)} USD` : `${limit.value} transfers`} (rule ${limit.ruleId})`,
  )
  return `${row.window} (${row.length})  [${row.group}]  ${row.sumUsd.toFixed(2)} USD in ${row.count} request(s)  ${limits.join(', ') || 'no limit in the rules'}`
}

function registerShow(velocity: Command, context: ProgramContext): void {
  withStoreOptions(velocity.command('show'))
    .description(
      "what each group has used of each velocity window now, against the limits the policy's rules set",
    )
    .option('--policy <file>', 'the policy file declaring the windows (default: the one --config names)')
    .option('--json', 'one JSON array instead of text lines')
    .action(
      action(context, (options: ShowOptions) => {
        const windows = readVelocityWindows(policyPathOf(options, context.io))
        return withStore(options, context.io, async (store) => {
          const spans = windows.map((window) => ({
            windowId: window.id,
            windowMs: window.windowMs,
            bucketMs: window.bucketMs,
          }))
          const rows = usageRows(windows, await store.velocityUsage(spans, Date.now()))
          if (options.json) context.io.out(JSON.stringify(rows))
          else if (windows.length === 0) context.io.out('the policy declares no velocity windows')
          else if (rows.length === 0) context.io.out('no amount is counted in any velocity window now')
          else for (const row of rows) context.io.out(describeRow(row))
          return ExitCode.ok
        })
      }),
    )
}

export function registerVelocityCommands(program: Command, context: ProgramContext): void {
  const velocity = program.command('velocity').description('velocity windows (amounts approved over time)')
  registerShow(velocity, context)
  withStoreOptions(velocity.command('release'))
    .description(
      'take back the amount an approved request reserved (a transaction that failed or was cancelled)',
    )
    .requiredOption('--request-id <id>', 'the requestId whose reservation to release')
    .action(
      action(context, (options: StoreOptions & { requestId: string }) =>
        withStore(options, context.io, async (store) => {
          const released = await store.releaseVelocity(options.requestId)
          for (const item of released) {
            context.io.out(
              `released ${(item.amountUsdCents / 100).toFixed(2)} USD from ${item.windowId} [${item.groupKey}]`,
            )
          }
          return ExitCode.ok
        }),
      ),
    )
}
