import { mkdir, readFile, stat, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { importRsaPublicKey } from '../../protocol/index.js'
import {
  API_USER_KEY_BITS,
  CALLBACK_KEY_BITS,
  DEFAULT_CLOCK_SKEW_SECONDS,
  KeyMaterialKind,
  checkKeyMatch,
  createCsr,
  diagnoseRequest,
  generateRsaKeyPair,
  generateStatementKeyPair,
  parseSubject,
  readKeyMaterialFile,
  spkiFingerprint,
  writePrivateKeyFile,
  writePublicFile,
  type KeyMaterial,
  type ReadKeyMaterialOptions,
} from '../../keys/index.js'
import { ExitCode, type Io } from '../io.js'
import { action, type ProgramContext } from '../program.js'

const EXIT_CODES_HELP = (zero: string, one: string) => `
Exit codes:
  0  ${zero}
  1  ${one}
  2  unusable input (unreadable, encrypted, wrong type, non-RSA or short key, bad option)`

/** Fails the command with one sentence and exit code 2 (printed by commander, like its own usage errors). */
function fail(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: ExitCode.usage, code: 'countersign.input' })
}

async function readInputFile(io: Io, command: Command, path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(resolve(io.cwd, path))
  } catch {
    fail(command, `cannot read the ${what} ${path}`)
  }
}

/** A passphrase file holds the passphrase on its first line; the line break is not part of it. */
async function readPassphrase(
  io: Io,
  command: Command,
  path: string | undefined,
): Promise<Buffer | undefined> {
  if (path === undefined) return undefined
  const data = await readInputFile(io, command, path, 'passphrase file')
  return Buffer.from(data.toString('utf8').replace(/\r?\n$/, ''))
}

function describeMaterial(material: KeyMaterial): string {
  const size = material.bits === undefined ? '' : ` ${material.bits} bits`
  return `${material.kind}, ${material.keyType.toUpperCase()}${size}`
}

/** Reads a file named relative to the command's working directory; messages name it as the user did. */
function readMaterial(io: Io, path: string, options: ReadKeyMaterialOptions = {}): Promise<KeyMaterial> {
  return readKeyMaterialFile(resolve(io.cwd, path), { label: path, ...options })
}

/** Reads a key for `check` and `diagnose`: those are about API-user keys, so RSA of at least 2048 bits. */
async function readRsaMaterial(
  io: Io,
  path: string,
  expect: readonly KeyMaterialKind[],
  passphrase?: Buffer,
): Promise<KeyMaterial> {
  const material = await readMaterial(io, path, {
    expect,
    ...(passphrase === undefined ? {} : { passphrase }),
  })
  importRsaPublicKey(material.publicKey, path)
  return material
}

const PUBLIC_KINDS = [KeyMaterialKind.csr, KeyMaterialKind.publicKey, KeyMaterialKind.certificate]
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

interface GenerateOptions {
  readonly name: string
  readonly bits?: string
  readonly subject?: string
  readonly out?: string
  readonly for: 'api-user' | 'callback' | 'approver'
  readonly force?: boolean
}

async function outputDirectory(io: Io, command: Command, out: string | undefined): Promise<string> {
  const dir = resolve(io.cwd, out ?? '.')
  // A missing folder is created private to its owner: it is about to hold a private key.
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch(() => undefined)
  const isDirectory = await stat(dir)
    .then((entry) => entry.isDirectory())
    .catch(() => false)
  if (!isDirectory) fail(command, `--out ${dir} is not a folder and cannot be created as one`)
  return dir
}

/** Writes the public file, then the private key; both or neither. */
async function writePair(
  publicPath: string,
  publicContent: string,
  keyPath: string,
  privatePem: string,
  force: boolean,
) {
  // Both files or neither: a public file left beside an older key of the same name would not match it.
  await writePublicFile(publicPath, publicContent, { force })
  try {
    await writePrivateKeyFile(keyPath, privatePem, { force })
  } catch (error) {
    await unlink(publicPath)
    throw error
  }
}

/** An approver's (or audit anchor signer's) Ed25519 key pair: NAME.key and NAME.pub. */
async function generateApprover(io: Io, command: Command, options: GenerateOptions): Promise<number> {
  if (options.bits !== undefined || options.subject !== undefined)
    fail(command, '--bits and --subject apply to RSA keys; an approver key is Ed25519')
  const dir = await outputDirectory(io, command, options.out)
  const pair = await generateStatementKeyPair()
  const keyPath = join(dir, `${options.name}.key`)
  const publicPath = join(dir, `${options.name}.pub`)
  await writePair(publicPath, pair.publicKeyPem, keyPath, pair.privateKeyPem, options.force === true)
  io.out(`wrote ${keyPath} (private key, Ed25519, PKCS#8 PEM, mode 0600)`)
  io.out(`wrote ${publicPath} (public key, SPKI PEM)`)
  io.out(`sha256 ${spkiFingerprint(pair.publicKey)}`)
  io.out(
    `next: countersign approvers add ${options.name} --public-key ${publicPath}; keep ${keyPath} secret, with its approver only`,
  )
  return ExitCode.ok
}

async function generate(io: Io, command: Command, options: GenerateOptions): Promise<number> {
  if (!FILE_NAME.test(options.name)) {
    fail(command, `--name "${options.name}" must be a file name: letters, digits, ".", "_" and "-"`)
  }
  if (options.for === 'approver') return generateApprover(io, command, options)
  const callback = options.for === 'callback'
  const bits =
    options.bits === undefined ? (callback ? CALLBACK_KEY_BITS : API_USER_KEY_BITS) : Number(options.bits)
  if (callback && bits !== CALLBACK_KEY_BITS) {
    fail(command, `a callback handler key is RSA-${CALLBACK_KEY_BITS}, the only size co-signers accept`)
  }
  if (callback && options.subject !== undefined)
    fail(command, '--subject applies to API-user keys (their CSR) only')
  const subject = parseSubject(options.subject ?? `/CN=${options.name}`)
  const dir = await outputDirectory(io, command, options.out)

  const pair = await generateRsaKeyPair(bits)
  const keyPath = join(dir, `${options.name}.key`)
  // `.pub`, the name development mode and the docs give the handler's public key.
  const publicPath = join(dir, callback ? `${options.name}.pub` : `${options.name}.csr`)
  const publicContent = callback ? pair.publicKeyPem : createCsr(pair.privateKey, subject)
  await writePair(publicPath, publicContent, keyPath, pair.privateKeyPem, options.force === true)

  io.out(`wrote ${keyPath} (private key, RSA ${bits} bits, PKCS#8 PEM, mode 0600)`)
  io.out(
    `wrote ${publicPath} (${callback ? 'public key, SPKI PEM' : 'certificate signing request, SHA-256'})`,
  )
  io.out(`sha256 ${spkiFingerprint(pair.publicKey)}`)
  io.out(
    callback
      ? `next: configure ${publicPath} as the callback handler's public key on the co-signer; keep ${keyPath} secret`
      : `next: upload ${publicPath} when you create the API user; keep ${keyPath} secret`,
  )
  return ExitCode.ok
}

async function fingerprint(
  io: Io,
  file: string,
  options: { json?: boolean; passphraseFile?: string },
  command: Command,
) {
  const passphrase = await readPassphrase(io, command, options.passphraseFile)
  const material = await readMaterial(io, file, passphrase === undefined ? {} : { passphrase })
  const sha256 = spkiFingerprint(material.publicKey)
  if (options.json === true) {
    io.out(
      JSON.stringify({
        file,
        sha256,
        kind: material.kind,
        format: material.format,
        keyType: material.keyType,
        bits: material.bits ?? null,
      }),
    )
  } else {
    io.out(`${sha256}  ${file}`)
    io.out(`${describeMaterial(material)} (${material.format.toUpperCase()})`)
  }
  return ExitCode.ok
}

interface CheckOptions {
  readonly key: string
  readonly csr: string
  readonly passphraseFile?: string
  readonly json?: boolean
}

async function check(io: Io, options: CheckOptions, command: Command): Promise<number> {
  const passphrase = await readPassphrase(io, command, options.passphraseFile)
  const key = await readRsaMaterial(io, options.key, [KeyMaterialKind.privateKey], passphrase)
  const other = await readRsaMaterial(io, options.csr, PUBLIC_KINDS)
  const result = checkKeyMatch(key.publicKey, other.publicKey)
  if (options.json === true) {
    io.out(JSON.stringify({ match: result.match, key: result.keyFingerprint, csr: result.otherFingerprint }))
  } else {
    io.out(`key  ${result.keyFingerprint}  ${options.key} (${describeMaterial(key)})`)
    io.out(`csr  ${result.otherFingerprint}  ${options.csr} (${describeMaterial(other)})`)
    io.out(
      result.match
        ? 'MATCH'
        : "MISMATCH: this private key does not belong to this CSR. Find the key whose fingerprint is the CSR's, or create a new API user with a CSR made from this key.",
    )
  }
  return result.match ? ExitCode.ok : ExitCode.failed
}

interface DiagnoseOptions {
  readonly key?: string
  readonly csr?: string
  readonly pubkey?: string
  readonly jwt?: string
  readonly jwtFile?: string
  readonly method?: string
  readonly url?: string
  readonly bodyFile?: string
  readonly apiKey?: string
  readonly skew: string
  readonly passphraseFile?: string
  readonly json?: boolean
}

const BODYLESS_METHODS = new Set(['GET', 'DELETE', 'HEAD'])

async function diagnose(io: Io, options: DiagnoseOptions, command: Command): Promise<number> {
  const registeredPath = options.csr ?? options.pubkey
  if (registeredPath === undefined || (options.csr !== undefined && options.pubkey !== undefined)) {
    fail(command, 'give exactly one of --csr CSR and --pubkey PUB: the key registered for the API user')
  }
  if ((options.jwt === undefined) === (options.jwtFile === undefined))
    fail(command, 'give exactly one of --jwt and --jwt-file')
  const skew = Number(options.skew)
  if (!Number.isFinite(skew) || skew < 0) fail(command, `--skew must be a number of seconds >= 0`)
  if (options.url !== undefined && !options.url.startsWith('/') && !URL.canParse(options.url)) {
    fail(command, '--url must be an absolute URL or a path starting with "/"')
  }
  const jwt =
    options.jwt ?? (await readInputFile(io, command, options.jwtFile ?? '', 'JWT file')).toString('utf8')
  const passphrase = await readPassphrase(io, command, options.passphraseFile)
  const signing =
    options.key === undefined
      ? undefined
      : await readRsaMaterial(io, options.key, [KeyMaterialKind.privateKey], passphrase)
  const registered = await readRsaMaterial(io, registeredPath, PUBLIC_KINDS)
  const method = options.method?.toUpperCase()
  const body =
    options.bodyFile !== undefined
      ? await readInputFile(io, command, options.bodyFile, 'body file')
      : method !== undefined && BODYLESS_METHODS.has(method)
        ? new Uint8Array()
        : undefined

  const diagnosis = await diagnoseRequest({
    registeredKey: registered.publicKey,
    jwt,
    clockSkewSeconds: skew,
    ...(signing === undefined ? {} : { signingKey: signing.publicKey }),
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(body === undefined ? {} : { body }),
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
  })
  if (options.json === true) io.out(JSON.stringify(diagnosis, null, 2))
  else {
    const { cause } = diagnosis
    if (cause === undefined) io.out('ACCEPTED: the request would be accepted with the registered key.')
    else {
      io.out(`CAUSE: ${cause.summary}`)
      io.out(
        `Fireblocks answers: HTTP 401 ${JSON.stringify({ message: cause.apiMessage, code: cause.apiCode })}`,
      )
      io.out(`FIX: ${cause.fix}`)
    }
    io.out(`registered key  ${diagnosis.fingerprints.registeredKey}  ${registeredPath}`)
    if (diagnosis.fingerprints.signingKey !== undefined)
      io.out(`private key     ${diagnosis.fingerprints.signingKey}  ${options.key}`)
    for (const note of diagnosis.notes) io.out(`note: ${note}`)
  }
  return diagnosis.accepted ? ExitCode.ok : ExitCode.failed
}

/** `countersign keys ...`: generate, fingerprint, check and diagnose API-user and callback-handler keys. */
export function registerKeysCommands(program: Command, context: ProgramContext): void {
  const keys = program
    .command('keys')
    .description(
      'Generate keys and CSRs, print fingerprints, check a key against its CSR, diagnose refused requests',
    )

  keys
    .command('generate')
    .description(
      'Create an RSA private key (PKCS#8 PEM, mode 0600) and a SHA-256 CSR, or a callback handler key pair',
    )
    .requiredOption('--name <name>', 'base name of the files written (NAME.key and NAME.csr or NAME.pub)')
    .option(
      '--bits <bits>',
      `RSA modulus size (default ${API_USER_KEY_BITS}; ${CALLBACK_KEY_BITS} with --for callback)`,
    )
    .option('--subject <subject>', 'CSR subject, openssl style (default /CN=NAME)')
    .option(
      '--out <dir>',
      'directory to write to (default: the current directory; created, mode 0700, if missing)',
    )
    .addOption(
      new Option(
        '--for <use>',
        'api-user: key and CSR; callback: RSA-2048 handler key and public key PEM; approver: Ed25519 key and public key (approver votes, audit anchors)',
      )
        .choices(['api-user', 'callback', 'approver'])
        .default('api-user'),
    )
    .option('--force', 'replace existing files')
    .addHelpText(
      'after',
      `
Examples:
  countersign keys generate --name treasury-bot --subject "/O=Acme/CN=treasury-bot"
  countersign keys generate --name handler --for callback --out ./keys
  countersign keys generate --name alice --for approver
${EXIT_CODES_HELP('files written', '(not used)')}`,
    )
    .action(
      action(context, (options: GenerateOptions, command: Command) => generate(context.io, command, options)),
    )

  keys
    .command('fingerprint')
    .description(
      'Print the SHA-256 of the SPKI public key (PEM), as openssl pkey -pubout | sha256sum does, with key type and size; also the SPKI pin of a TLS certificate',
    )
    .argument('<file>', 'private key, public key, CSR or certificate, PEM or DER')
    .option('--passphrase-file <file>', 'passphrase of an encrypted private key')
    .option('--json', 'print a JSON object')
    .addHelpText('after', EXIT_CODES_HELP('fingerprint printed', '(not used)'))
    .action(
      action(
        context,
        (file: string, options: { json?: boolean; passphraseFile?: string }, command: Command) =>
          fingerprint(context.io, file, options, command),
      ),
    )

  keys
    .command('check')
    .description('Tell whether a private key belongs to a CSR (or public key, or certificate)')
    .requiredOption('--key <file>', "the API user's private key")
    .requiredOption('--csr <file>', 'the CSR uploaded for the API user, or a public key or certificate')
    .option('--passphrase-file <file>', 'passphrase of an encrypted private key')
    .option('--json', 'print a JSON object')
    .addHelpText('after', EXIT_CODES_HELP('MATCH: the key belongs to the CSR', 'MISMATCH: it does not'))
    .action(action(context, (options: CheckOptions, command: Command) => check(context.io, options, command)))

  keys
    .command('diagnose')
    .description(
      'Name the exact reason a Fireblocks-style API request is refused ("invalid signature", -7, ...), with the fix',
    )
    .option('--key <file>', "the API user's private key, checked against the registered key first")
    .option('--csr <file>', 'the CSR uploaded for the API user (or its certificate)')
    .option('--pubkey <file>', 'the registered public key, instead of --csr')
    .option('--jwt <token>', 'the bearer token sent (with or without "Bearer ")')
    .option('--jwt-file <file>', 'read the token from a file instead (keeps it out of the process list)')
    .option('--method <method>', 'HTTP method; GET or DELETE means no body')
    .option('--url <url>', 'the request URL, or its path and query')
    .option('--body-file <file>', 'the exact body bytes sent')
    .option('--api-key <key>', 'the X-API-Key header sent')
    .option('--skew <seconds>', 'clock skew tolerated on iat and exp', String(DEFAULT_CLOCK_SKEW_SECONDS))
    .option('--passphrase-file <file>', 'passphrase of an encrypted private key')
    .option('--json', 'print the diagnosis as a JSON object')
    .addHelpText(
      'after',
      `
Checks skipped for lack of input (no --url, no --body-file or body-less --method, no --api-key) are listed.

Example:
  countersign keys diagnose --key api.key --csr api.csr --jwt-file token.txt \\
    --method POST --url https://api.fireblocks.io/v1/transactions --body-file body.json --api-key $API_KEY
${EXIT_CODES_HELP('the request would be accepted', 'a cause was found (printed with its fix)')}`,
    )
    .action(
      action(context, (options: DiagnoseOptions, command: Command) => diagnose(context.io, options, command)),
    )
}
