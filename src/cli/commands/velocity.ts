import type { Command } from 'commander'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

export function registerVelocityCommands(program: Command, context: ProgramContext): void {
  const velocity = program.command('velocity').description('velocity windows (amounts approved over time)')
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
