import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { parseDuration } from '../../core/index.js'
import {
  backupCosigner,
  cosignerPublicKey,
  cosignerStatus,
  createCosignerFolder,
  listApiUsers,
  openCosignerFolder,
  pairCosigner,
  renameApiUser,
  restoreCosigner,
  setCallback,
  startCosigner,
  unpairApiUser,
  type CallbackSchedule,
  type CosignerFolder,
  type KekSettings,
  type Unlock,
} from '../../cosigner/index.js'
import { captureSignals, createServiceLogger, exitOnFatalError, parseListen } from '../../service/index.js'
import { ExitCode } from '../io.js'
import { action, type ProgramContext } from '../program.js'

interface FolderOptions {
  readonly dir: string
  readonly passphraseFile?: string
  readonly pinFile?: string
}

interface KekOptions extends FolderOptions {
  readonly kek: string
  readonly kekFile?: string
  readonly pkcs11Library?: string
  readonly pkcs11Token?: string
  readonly pkcs11Key?: string
}

interface PairOptions extends KekOptions {
  readonly hub: string
  readonly pairingToken?: string
  readonly pairingTokenFile?: string
  readonly name?: string
}

interface StartOptions extends FolderOptions {
  readonly logLevel: string
  readonly admin?: string
  readonly callbackTimeout?: string
  readonly callbackRetryInterval?: string
  readonly callbackMaxRetries?: string
  readonly link: string
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type LogLevel = (typeof LEVELS)[number]

class UsageError extends Error {}

/** A secret from a file, or an environment variable: never from the command line, where `ps` shows it. */
async function secretOf(file: string | undefined, variable: string | undefined): Promise<string | undefined> {
  if (file !== undefined) return (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
  return variable === undefined || variable === '' ? undefined : variable
}

async function unlockOf(context: ProgramContext, options: FolderOptions): Promise<Unlock> {
  const passphrase = await secretOf(options.passphraseFile, context.io.env.COUNTERSIGN_COSIGNER_PASSPHRASE)
  const pin = await secretOf(options.pinFile, context.io.env.COUNTERSIGN_PKCS11_PIN)
  return { ...(passphrase === undefined ? {} : { passphrase }), ...(pin === undefined ? {} : { pin }) }
}

function kekOf(options: KekOptions): KekSettings {
  switch (options.kek) {
    case 'file':
      // Beside the folder, not in it: a copy of the folder alone does not carry its key.
      return { kind: 'file', path: resolve(options.kekFile ?? `${options.dir.replace(/\/+$/, '')}.kek`) }
    case 'passphrase':
      return { kind: 'passphrase' }
    case 'pkcs11': {
      const { pkcs11Library: library, pkcs11Token: tokenLabel, pkcs11Key: keyLabel } = options
      if (library === undefined || tokenLabel === undefined || keyLabel === undefined)
        throw new UsageError('--kek pkcs11 needs --pkcs11-library, --pkcs11-token and --pkcs11-key')
      return { kind: 'pkcs11', library, tokenLabel, keyLabel }
    }
    default:
      throw new UsageError(`--kek must be file, passphrase or pkcs11, not "${options.kek}"`)
  }
}

/** Runs `work` on the folder, closed afterwards whatever happens. */
async function withFolder<T>(
  context: ProgramContext,
  options: FolderOptions,
  work: (folder: CosignerFolder) => Promise<T>,
): Promise<T> {
  const folder = await openCosignerFolder(options.dir, await unlockOf(context, options))
  try {
    return await work(folder)
  } finally {
    await folder.close()
  }
}

async function pair(context: ProgramContext, options: PairOptions): Promise<number> {
  const pairingToken = await secretOf(
    options.pairingTokenFile,
    options.pairingToken ?? context.io.env.COUNTERSIGN_PAIRING_TOKEN,
  )
  if (pairingToken === undefined)
    throw new UsageError(
      'no pairing token: give --pairing-token, --pairing-token-file or COUNTERSIGN_PAIRING_TOKEN',
    )
  const unlock = await unlockOf(context, options)
  const folder = existsSync(resolve(options.dir, 'cosigner.json'))
    ? await openCosignerFolder(options.dir, unlock)
    : await createCosignerFolder(options.dir, kekOf(options), unlock)
  try {
    const paired = await pairCosigner(folder, {
      hubUrl: options.hub,
      pairingToken,
      ...(options.name === undefined ? {} : { name: options.name }),
    })
    context.io.out(`paired with API user ${paired.party.name} (co-signer ${paired.cosignerId})`)
    context.io.out(
      `its callback handler verifies requests with: countersign cosigner public-key --dir ${options.dir}`,
    )
    context.io.out(`start (or restart) it with: countersign cosigner start --dir ${options.dir}`)
  } finally {
    await folder.close()
  }
  return ExitCode.ok
}

function scheduleOf(options: StartOptions): Partial<CallbackSchedule> {
  const ms = (text: string | undefined, flag: string) => {
    if (text === undefined) return undefined
    try {
      return parseDuration(text)
    } catch {
      throw new UsageError(`${flag} must be a duration such as 30s or 3m, not "${text}"`)
    }
  }
  const timeoutMs = ms(options.callbackTimeout, '--callback-timeout')
  const retryIntervalMs = ms(options.callbackRetryInterval, '--callback-retry-interval')
  const maxRetries = options.callbackMaxRetries === undefined ? undefined : Number(options.callbackMaxRetries)
  if (maxRetries !== undefined && (!Number.isInteger(maxRetries) || maxRetries < 0))
    throw new UsageError('--callback-max-retries must be a whole number')
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(retryIntervalMs === undefined ? {} : { retryIntervalMs }),
    ...(maxRetries === undefined ? {} : { maxRetries }),
  }
}

async function start(context: ProgramContext, options: StartOptions): Promise<number> {
  if (!(LEVELS as readonly string[]).includes(options.logLevel))
    throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`)
  const admin = options.admin === undefined ? undefined : parseListen(options.admin)
  if (options.admin !== undefined && admin === undefined)
    throw new UsageError(`--admin must be host:port, e.g. 127.0.0.1:9464, not "${options.admin}"`)
  const schedule = scheduleOf(options)
  if (options.link !== 'websocket' && options.link !== 'long-poll')
    throw new UsageError(`--link must be websocket or long-poll, not "${options.link}"`)
  const link = options.link
  const signals = captureSignals()
  try {
    const log = createServiceLogger({ service: 'countersign-cosigner', level: options.logLevel as LogLevel })
    exitOnFatalError(log)
    const cosigner = await startCosigner({
      dir: options.dir,
      unlock: await unlockOf(context, options),
      log,
      schedule,
      link,
      ...(admin === undefined ? {} : { admin }),
    })
    context.io.err(
      `Countersign co-signer for API users ${cosigner.parties.join(', ')} polling the hub (pid ${process.pid})` +
        (cosigner.adminUrl === undefined ? '' : `; probes and metrics on ${cosigner.adminUrl}`),
    )
    await Promise.race([signals.serve(cosigner, log), cosigner.done])
    await cosigner.close()
  } finally {
    signals.release()
  }
  return ExitCode.ok
}

/** A new folder's KEK choice. */
function kekCommand(command: Command): Command {
  return command
    .option('--kek <kind>', 'a new folder: the key-encryption key: file, passphrase or pkcs11', 'file')
    .option(
      '--kek-file <file>',
      'a file KEK (created 0600 when absent; default: <dir>.kek beside the folder)',
    )
    .option('--pkcs11-library <path>', 'the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so')
    .option('--pkcs11-token <label>', 'the token label (never a slot number)')
    .option('--pkcs11-key <label>', 'the AES key label on the token')
}

async function init(context: ProgramContext, options: KekOptions): Promise<number> {
  const folder = await createCosignerFolder(options.dir, kekOf(options), await unlockOf(context, options))
  try {
    await cosignerPublicKey(folder) // the callback key, made and sealed now
    context.io.out(
      `co-signer folder ${options.dir} created, sealed under a ${folder.kek.kind} KEK; pair it with:`,
    )
    context.io.out(`  countersign cosigner pair --dir ${options.dir} --hub URL --pairing-token-file FILE`)
  } finally {
    await folder.close()
  }
  return ExitCode.ok
}

/** Creates the AES KEK on a PKCS#11 token (generated inside it, never extractable). */
async function pkcs11Key(context: ProgramContext, options: KekOptions): Promise<number> {
  const { pkcs11Library: library, pkcs11Token: tokenLabel, pkcs11Key: keyLabel } = options
  const { pin } = await unlockOf(context, options)
  if (library === undefined || tokenLabel === undefined || keyLabel === undefined || pin === undefined)
    throw new UsageError(
      'give --pkcs11-library, --pkcs11-token, --pkcs11-key, and the PIN (COUNTERSIGN_PKCS11_PIN or --pin-file)',
    )
  const { createPkcs11Key } = await import('../../seal/index.js')
  await createPkcs11Key({ library, tokenLabel, keyLabel, pin })
  context.io.out(
    `AES-256 key "${keyLabel}" created on token "${tokenLabel}" (wrap and unwrap only, not extractable)`,
  )
  return ExitCode.ok
}

/** Adds --dir and the unlock options every command that opens the folder takes. */
function folderCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--dir <dir>', "the co-signer's folder", 'cosigner')
    .option(
      '--passphrase-file <file>',
      'the passphrase of a passphrase KEK (or COUNTERSIGN_COSIGNER_PASSPHRASE)',
    )
    .option('--pin-file <file>', 'the PIN of a PKCS#11 KEK (or COUNTERSIGN_PKCS11_PIN)')
}

/** The CLI's usage errors exit 2 with one line; everything else is the shared handler's. */
function run<O>(context: ProgramContext, work: (options: O) => Promise<number>) {
  return action(context, async (options: O) => {
    try {
      return await work(options)
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      context.io.err(`countersign: ${error.message}`)
      return ExitCode.usage
    }
  })
}

export function registerCosignerCommands(program: Command, context: ProgramContext): void {
  const cosigner = program
    .command('cosigner')
    .description("the co-signer daemon: API users' share of every signature, after their callback handlers")
  kekCommand(folderCommand(cosigner, 'init', 'create the folder, sealed under the KEK chosen')).action(
    run(context, (options: KekOptions) => init(context, options)),
  )
  kekCommand(
    folderCommand(cosigner, 'pkcs11-key', 'create the AES KEK on a PKCS#11 token (once per token)'),
  ).action(run(context, (options: KekOptions) => pkcs11Key(context, options)))
  kekCommand(
    folderCommand(cosigner, 'pair', 'pair with an API user of a hub (creates the folder on first use)'),
  )
    .requiredOption('--hub <url>', "the hub's URL, e.g. https://hub.example.com")
    .option(
      '--pairing-token <token>',
      'the pairing token (or --pairing-token-file, or COUNTERSIGN_PAIRING_TOKEN)',
    )
    .option('--pairing-token-file <file>', 'a file holding the pairing token')
    .option('--name <name>', 'a name for this API user on this co-signer')
    .action(run(context, (options: PairOptions) => pair(context, options)))
  folderCommand(cosigner, 'start', 'poll the hub, ask the callback handlers, sign what they approve')
    .option('--log-level <level>', 'pino level', 'info')
    .option('--admin <host:port>', 'serve /healthz, /readyz and /metrics there')
    .option('--callback-timeout <duration>', 'each callback call (default 30s)')
    .option('--callback-retry-interval <duration>', 'between RETRY answers (default 3m)')
    .option('--callback-max-retries <n>', 'RETRY answers followed (default 20)')
    .option('--link <mode>', 'websocket (long-poll when it fails) or long-poll', 'websocket')
    .action(run(context, (options: StartOptions) => start(context, options)))
  folderCommand(cosigner, 'status', 'the KEK kind, API users, pending approvals and the audit chain').action(
    run(context, (options: FolderOptions) =>
      withFolder(context, options, async (folder) => {
        const status = await cosignerStatus(folder)
        context.io.out(JSON.stringify(status, null, 2))
        return status.audit.ok ? ExitCode.ok : ExitCode.failed
      }),
    ),
  )
  folderCommand(cosigner, 'api-users', 'the API users this co-signer is paired with').action(
    run(context, (options: FolderOptions) =>
      withFolder(context, options, async (folder) => {
        context.io.out(JSON.stringify(await listApiUsers(folder), null, 2))
        return ExitCode.ok
      }),
    ),
  )
  folderCommand(cosigner, 'rename', "rename an API user's pairing")
    .requiredOption('--api-user <id>', "the API user's id")
    .requiredOption('--name <name>', 'the new name')
    .action(
      run(context, (options: FolderOptions & { apiUser: string; name: string }) =>
        withFolder(context, options, async (folder) => {
          await renameApiUser(folder, options.apiUser, options.name)
          return ExitCode.ok
        }),
      ),
    )
  folderCommand(cosigner, 'unpair', 'forget an API user: its pairing, keys, shares (restart to apply)')
    .requiredOption('--api-user <id>', "the API user's id")
    .action(
      run(context, (options: FolderOptions & { apiUser: string }) =>
        withFolder(context, options, async (folder) => {
          await unpairApiUser(folder, options.apiUser)
          context.io.out(`unpaired ${options.apiUser}; on the hub an Admin removes it from the co-signer too`)
          return ExitCode.ok
        }),
      ),
    )
  folderCommand(cosigner, 'public-key', 'print the public key callback handlers verify requests with').action(
    run(context, (options: FolderOptions) =>
      withFolder(context, options, async (folder) => {
        context.io.out((await cosignerPublicKey(folder)).trimEnd())
        return ExitCode.ok
      }),
    ),
  )
  folderCommand(
    cosigner,
    'backup',
    'copy the folder (database, keyring, settings; never the KEK) into a new one',
  )
    .requiredOption('--out <dir>', 'a new, empty folder for the backup')
    .action(
      run(context, (options: FolderOptions & { out: string }) =>
        withFolder(context, options, async (folder) => {
          await backupCosigner(folder, options.out)
          context.io.out(`backed up into ${options.out}: restorable only with the same KEK`)
          return ExitCode.ok
        }),
      ),
    )
  folderCommand(cosigner, 'restore', 'restore a backup into a new folder (--dir) and check it opens')
    .requiredOption('--from <dir>', 'the backup folder')
    .action(
      run(context, async (options: FolderOptions & { from: string }) => {
        const status = await restoreCosigner(options.from, options.dir, await unlockOf(context, options))
        context.io.out(JSON.stringify(status, null, 2))
        return ExitCode.ok
      }),
    )
  const callback = cosigner.command('callback').description("an API user's callback handler, set locally")
  folderCommand(callback, 'set', 'set the handler: its URL and its public key (JWT mode) or certificate')
    .requiredOption('--api-user <id>', "the API user's id")
    .requiredOption('--url <url>', "the handler's base URL")
    .option('--public-key <file>', "the handler's RSA public key (PEM): RS256 JWTs both ways")
    .option('--cert <file>', "the handler's TLS certificate (PEM): JSON over a TLS connection pinned to it")
    .action(
      run(
        context,
        (options: FolderOptions & { apiUser: string; url: string; publicKey?: string; cert?: string }) =>
          withFolder(context, options, async (folder) => {
            if ((options.publicKey === undefined) === (options.cert === undefined))
              throw new UsageError('give --public-key or --cert, one of the two')
            await setCallback(folder, options.apiUser, {
              url: options.url,
              ...(options.publicKey === undefined
                ? {}
                : { publicKey: await readFile(options.publicKey, 'utf8') }),
              ...(options.cert === undefined ? {} : { cert: await readFile(options.cert, 'utf8') }),
            })
            context.io.out(`callback handler of ${options.apiUser} set; restart not needed`)
            return ExitCode.ok
          }),
      ),
    )
  folderCommand(
    callback,
    'clear',
    "clear the local setting (the hub's applies, or none: approve automatically)",
  )
    .requiredOption('--api-user <id>', "the API user's id")
    .action(
      run(context, (options: FolderOptions & { apiUser: string }) =>
        withFolder(context, options, async (folder) => {
          await setCallback(folder, options.apiUser, null)
          return ExitCode.ok
        }),
      ),
    )
}
