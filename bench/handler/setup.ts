/** The handler under test as an operator runs it: a config folder, a real policy, a store, its own process. */
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { writeConfigFolder } from '../../test/handler/support.js'
import { testKeyPair } from '../../test/support/keys.js'
import { freePort } from '../../test/support/ports.js'

const CLI = join(import.meta.dirname, 'cli.ts')
const FLOOR_SERVER = join(import.meta.dirname, 'floor-server.ts')
/** tsx by absolute URL: the handler runs in its config folder, where a bare `tsx` would not resolve. */
export const TSX = import.meta.resolve('tsx')

/**
 * Approves the load through real rules: a velocity window read and reserved on every decision (a limit far
 * above the load, so it never trips), then a `when` condition on the amount.
 */
const BENCH_POLICY = `
version: 1
timezone: UTC
defaults:
  tx_approval: IGNORE
  tx_signing: REJECT
  config_change: REJECT
  on_error: { tx_approval: REJECT, tx_signing: REJECT, config_change: REJECT }
velocity:
  - id: vault_24h
    window: 24h
    group_by: [source.id]
    metrics: [sum_usd, count]
tx_signing:
  - id: vault-limit
    when: velocity.vault_24h.sum_usd + amount_usd > 100000000000.0
    action: REJECT
    reason: over the vault's 24h limit
  - id: small-whitelisted
    match: { dest.address_type: WHITELISTED }
    when: amount_usd <= 10000.0
    action: APPROVE
    reason: small whitelisted transfer
`

export interface BenchFolder {
  readonly dir: string
  readonly configFile: string
  readonly cosignerKeyFile: string
  readonly handlerPublicPem: string
}

const folders: string[] = []

/** Removes every folder `benchFolder` made: they hold private keys and stores nobody needs afterwards. */
export function removeBenchFolders(): void {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A fresh folder with keys (private ones mode 0600), the policy and a configuration naming `storeUrl`. */
export function benchFolder(storeUrl: string): BenchFolder {
  const dir = writeConfigFolder({ policy: BENCH_POLICY, storeUrl })
  folders.push(dir)
  return {
    dir,
    configFile: join(dir, 'countersign.yaml'),
    cosignerKeyFile: join(dir, 'cosigner.key'),
    handlerPublicPem: testKeyPair('handler').publicPem,
  }
}

/** A server under load: the handler, or the floor server. */
export interface ServerProcess {
  readonly origin: string
  /** The primary process; `--workers N` forks its workers as its children. */
  readonly pid: number
  readonly logFile: string
  /** SIGTERM, as an operator stops it; resolves with a note when it had to be killed instead. */
  stop(): Promise<string | undefined>
}

/** How long a server gets to drain and exit after SIGTERM before the benchmark kills its process group. */
const STOP_GRACE_MS = 10_000

/**
 * Starts `countersign handler start --workers N` and resolves once every worker logged that it listens.
 * Its log goes to a file, as in production, so the benchmark process spends nothing reading it.
 * `extraNodeArgs` (e.g. `--cpu-prof`) reach the workers too: node:cluster forks with the same execArgv.
 */
export async function startHandlerProcess(
  folder: BenchFolder,
  workers: number,
  extraNodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const port = await freePort()
  const args = ['handler', 'start', '--config', folder.configFile, '--listen', `127.0.0.1:${port}`]
  return startServer(folder, {
    name: `handler (--workers ${workers})`,
    args: [...extraNodeArgs, '--import', TSX, CLI, ...args, '--workers', String(workers)],
    port,
    ready: { marker: /callback handler listening/g, count: workers },
  })
}

/** Starts floor-server.ts on the folder's keys: HTTP, verification and signing, nothing else. */
export async function startFloorProcess(
  folder: BenchFolder,
  extraNodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const port = await freePort()
  return startServer(folder, {
    name: 'floor server',
    args: [...extraNodeArgs, '--import', TSX, FLOOR_SERVER, folder.dir, String(port)],
    port,
    ready: { marker: /^listening$/gm, count: 1 },
  })
}

interface ServerCommand {
  readonly name: string
  /** Node's arguments: options, then the script and its own. */
  readonly args: readonly string[]
  readonly port: number
  /** What the server writes to its log once it listens, and how many times (once per worker). */
  readonly ready: { readonly marker: RegExp; readonly count: number }
}

async function startServer(folder: BenchFolder, command: ServerCommand): Promise<ServerProcess> {
  const logFile = join(folder.dir, `${command.name.replace(/\W+/g, '-')}.log`)
  const log = openSync(logFile, 'a')
  // Its own process group, so that workers left behind can be killed with it.
  const child = spawn(process.execPath, command.args, {
    cwd: folder.dir,
    stdio: ['ignore', log, log],
    detached: true,
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  await waitForListening(child, logFile, command)
  return {
    origin: `http://127.0.0.1:${command.port}`,
    pid: child.pid!,
    logFile,
    stop: async () => {
      child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>(
        (resolve) => (timer = setTimeout(() => resolve('late'), STOP_GRACE_MS)),
      )
      const outcome = await Promise.race([exited, late])
      clearTimeout(timer)
      if (outcome !== 'late') return undefined
      process.kill(-child.pid!, 'SIGKILL')
      await exited
      return `the ${command.name} had not exited ${STOP_GRACE_MS / 1000} s after SIGTERM: killed`
    },
  }
}

async function waitForListening(child: ChildProcess, logFile: string, command: ServerCommand): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const text = readFileSync(logFile, 'utf8')
    if ((text.match(command.ready.marker) ?? []).length >= command.ready.count) return
    if (child.exitCode !== null || Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL')
      throw new Error(`the ${command.name} did not start (log ${logFile}):\n${text.slice(-2000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
