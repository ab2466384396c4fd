import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { describeFileError, parseSince } from '../../core/index.js'
import { ConfigInvalid } from '../../handler/index.js'
import {
  AnchorInvalid,
  readAnchor,
  readStatementPrivateKey,
  readStatementPublicKey,
  signAnchor,
  writePublicFile,
} from '../../keys/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

interface VerifyOptions extends StoreOptions {
  readonly anchor?: string
  readonly anchorKey?: string
  readonly json?: boolean
}

async function readAnchorFile(io: Io, options: VerifyOptions & { anchor: string }) {
  let text: string
  try {
    text = await readFile(resolve(io.cwd, options.anchor), 'utf8')
  } catch (error) {
    throw new AnchorInvalid(`cannot read the anchor ${options.anchor}: ${describeFileError(error)}`, {
      cause: error,
    })
  }
  const pinned =
    options.anchorKey === undefined
      ? undefined
      : (await readStatementPublicKey(resolve(io.cwd, options.anchorKey), options.anchorKey)).pem
  return readAnchor(text, options.anchor, pinned)
}

async function verify(io: Io, options: VerifyOptions): Promise<number> {
  const anchor =
    options.anchor === undefined
      ? undefined
      : await readAnchorFile(io, { ...options, anchor: options.anchor })
  if (anchor !== undefined && options.json !== true) {
    const at = new Date(anchor.statement.at).toISOString()
    io.out(
      `anchor: ${anchor.statement.entries} entries, head ${anchor.statement.headHash}, signed ${at} by sha256 ${anchor.fingerprint}`,
    )
    if (!anchor.pinned)
      io.out(
        'note: the anchor key is not pinned: pass --anchor-key PUB so an anchor re-signed by someone else is refused',
      )
  }
  return withStore(options, io, async (store) => {
    const result = await store.verifyAudit(anchor?.statement)
    if (options.json === true) {
      io.out(JSON.stringify(result))
      return result.ok ? ExitCode.ok : ExitCode.failed
    }
    if (result.ok) {
      io.out(
        `audit chain intact: ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}, head ${result.headHash}${anchor ? `; holds the anchored entry ${anchor.statement.entries}` : ''}`,
      )
      return ExitCode.ok
    }
    io.out(
      `audit chain BROKEN at entry ${result.brokenSeq}: ${result.problem} (${result.entries - 1} entries before it verify)`,
    )
    return ExitCode.failed
  })
}

async function anchor(io: Io, options: StoreOptions & { key: string; out: string; force?: boolean }) {
  const privateKey = await readStatementPrivateKey(resolve(io.cwd, options.key), options.key)
  return withStore(options, io, async (store) => {
    const result = await store.verifyAudit()
    if (!result.ok) {
      io.out(`audit chain BROKEN at entry ${result.brokenSeq}: ${result.problem}; not anchoring it`)
      return ExitCode.failed
    }
    if (result.entries === 0)
      throw new ConfigInvalid(['the audit chain is empty: there is nothing to anchor yet'])
    const signed = signAnchor(
      { entries: result.entries, headHash: result.headHash, at: Date.now() },
      privateKey,
    )
    const out = resolve(io.cwd, options.out)
    await writePublicFile(out, `${JSON.stringify(signed, null, 2)}\n`, { force: options.force === true })
    io.out(`wrote ${out}: ${result.entries} entries, head ${result.headHash}`)
    io.out(
      'next: copy it outside the store (another machine, write-once storage); check with countersign audit verify --anchor FILE --anchor-key PUB',
    )
    return ExitCode.ok
  })
}

export function registerAuditCommands(program: Command, context: ProgramContext): void {
  const { io } = context
  const audit = program.command('audit').description('the hash-chained audit log')

  withStoreOptions(audit.command('verify'))
    .description('walk the whole chain; exit 0 when intact, 1 naming the first broken entry')
    .option('--json', 'the result as one JSON object')
    .option(
      '--anchor <file>',
      'an anchor (countersign audit anchor): the chain must still hold its entry and hash',
    )
    .option('--anchor-key <file>', 'the public key anchors must be signed with')
    .action(action(context, (options: VerifyOptions) => verify(io, options)))

  withStoreOptions(audit.command('anchor'))
    .description('sign the chain head (entry count, head hash, time) into a file to keep outside the store')
    .requiredOption(
      '--key <file>',
      'the Ed25519 or P-256 private key that signs anchors (countersign keys generate --for approver)',
    )
    .requiredOption('--out <file>', 'the anchor file to write')
    .option('--force', 'replace an existing file')
    .action(
      action(context, (options: StoreOptions & { key: string; out: string; force?: boolean }) =>
        anchor(io, options),
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
