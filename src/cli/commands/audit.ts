import type { Command } from 'commander'
import { ConfigInvalid } from '../../handler/index.js'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { parseSince } from '../../core/index.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

export function registerAuditCommands(program: Command, context: ProgramContext): void {
  const { io } = context
  const audit = program.command('audit').description('the hash-chained audit log')

  withStoreOptions(audit.command('verify'))
    .description('walk the whole chain; exit 0 when intact, 1 naming the first broken entry')
    .option('--json', 'the result as one JSON object')
    .action(
      action(context, (options: StoreOptions & { json?: boolean }) =>
        withStore(options, io, async (store) => {
          const result = await store.verifyAudit()
          if (options.json) io.out(JSON.stringify(result))
          else if (result.ok) {
            io.out(
              `audit chain intact: ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}, head ${result.headHash}`,
            )
          } else
            io.out(
              `audit chain BROKEN at entry ${result.brokenSeq}: ${result.problem} (${result.entries - 1} entries before it verify)`,
            )
          return result.ok ? ExitCode.ok : ExitCode.failed
        }),
      ),
    )

  withStoreOptions(audit.command('export'))
    .description('stream entries, one JSON object per line, for a SIEM')
    .option('--since <time>', 'ISO date/time or a duration back from now (7d, 12h)')
    .option('--format <format>', 'output format (jsonl)', 'jsonl')
    .action(
      action(context, (options: StoreOptions & { since?: string; format: string }) => {
        if (options.format !== 'jsonl')
          throw new ConfigInvalid([`--format: "${options.format}" is not supported; use jsonl`])
        const since = options.since === undefined ? 0 : parseSince(options.since, Date.now(), '--since')
        return withStore(options, io, async (store) => {
          for await (const entry of store.readAudit(since))
            io.out(JSON.stringify({ ...entry, at: new Date(entry.at).toISOString() }))
          return ExitCode.ok
        })
      }),
    )
}
