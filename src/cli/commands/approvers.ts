import { resolve } from 'node:path'
import type { Command } from 'commander'
import { randomBytes } from 'node:crypto'
import { readStatementPublicKey } from '../../keys/index.js'
import { parseDuration } from '../../core/index.js'
import { ConfigInvalid } from '../../handler/index.js'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'
import { withStore, withStoreOptions, type StoreOptions } from '../store-option.js'

/** What a policy's `approvers` list may name: the id is matched exactly and shown in audit entries. */
const APPROVER_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/

export function registerApproversCommands(program: Command, context: ProgramContext): void {
  const { io } = context
  const approvers = program
    .command('approvers')
    .description(
      'the people who may vote on held requests, each with the public key their votes must verify with',
    )

  withStoreOptions(approvers.command('add <name>'))
    .description("register an approver's public key (audited); the name is the one the policy's hold lists")
    .requiredOption(
      '--public-key <file>',
      'Ed25519 or P-256 public key, SPKI PEM (countersign keys generate --for approver)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  countersign approvers add alice --public-key alice.pub --config countersign.yaml',
    )
    .action(
      action(context, async (name: string, options: StoreOptions & { publicKey: string }) => {
        if (!APPROVER_ID.test(name))
          throw new ConfigInvalid([
            `approver name "${name}" must be letters, digits, ".", "_", "@" or "-", at most 128 characters`,
          ])
        const key = await readStatementPublicKey(resolve(io.cwd, options.publicKey), options.publicKey)
        return withStore(options, io, async (store) => {
          const approver = await store.addApprover({
            id: name,
            publicKey: key.pem,
            fingerprint: key.fingerprint,
          })
          io.out(`approver ${approver.id} registered, key sha256 ${approver.fingerprint}`)
          return ExitCode.ok
        })
      }),
    )

  withStoreOptions(approvers.command('enrol-link <name>'))
    .description(
      'a single-use link (audited) with which a registered approver enrols a passkey in the approvals console',
    )
    .requiredOption('--origin <url>', "the console's origin, as in the handler's console.origin")
    .option('--ttl <duration>', 'how long the link stays valid', '24h')
    .addHelpText(
      'after',
      '\nGive the link to the approver over a channel that proves who they are: whoever opens it first enrols.\nThe token is in the fragment (#token=...), which browsers never send to servers or proxies.',
    )
    .action(
      action(context, (name: string, options: StoreOptions & { origin: string; ttl: string }) => {
        const ttlMs = parseDuration(options.ttl, '--ttl')
        return withStore(options, io, async (store) => {
          if (!(await store.listApprovers()).some((approver) => approver.id === name))
            throw new ConfigInvalid([
              `${name} is not a registered approver: register them first (countersign approvers add ${name} --public-key FILE)`,
            ])
          const token = randomBytes(32).toString('base64url')
          await store.console.issueEnrolment(name, token, ttlMs)
          io.out(`${options.origin.replace(/\/$/, '')}/console/enrol#token=${token}`)
          return ExitCode.ok
        })
      }),
    )

  withStoreOptions(approvers.command('remove <name>'))
    .description('unregister an approver (audited); their votes on requests still held stop counting')
    .action(
      action(context, (name: string, options: StoreOptions) =>
        withStore(options, io, async (store) => {
          const approver = await store.removeApprover(name)
          io.out(`approver ${approver.id} removed (key sha256 ${approver.fingerprint})`)
          return ExitCode.ok
        }),
      ),
    )

  withStoreOptions(approvers.command('list'))
    .description('list registered approvers and their key fingerprints')
    .action(
      action(context, (options: StoreOptions) =>
        withStore(options, io, async (store) => {
          const list = await store.listApprovers()
          if (list.length === 0)
            io.out('no approvers are registered (countersign approvers add NAME --public-key FILE)')
          for (const approver of list)
            io.out(`${approver.id}  sha256 ${approver.fingerprint}  added ${approver.addedAt.toISOString()}`)
          return ExitCode.ok
        }),
      ),
    )
}
