/**
 * A private PostgreSQL cluster for fault tests that kill the server: `initdb` into a temporary folder, a
 * free loopback port, sockets in that folder. `crash()` stops it the way a power cut or OOM kill does
 * (`pg_ctl stop -m immediate`: no checkpoint, recovery at the next start); `start()` brings it back on the
 * same port; `destroy()` stops it and removes the folder. initdb refuses to run as root, so under root the
 * cluster belongs to the `postgres` system user.
 */
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`, trust authentication. */
  readonly url: string
  start(): void
  crash(): void
  destroy(): void
}

const ROOT = '/usr/lib/postgresql'

/** The newest installed server's binaries, or a sentence saying why there are none. */
export function postgresBinaries(): string | { readonly missing: string } {
  if (!existsSync(ROOT)) return { missing: `${ROOT} does not exist: install a PostgreSQL server package` }
  const versions = readdirSync(ROOT)
    .filter((version) => existsSync(join(ROOT, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0)
    return { missing: `no ${ROOT}/*/bin/initdb: install a PostgreSQL server package` }
  return join(ROOT, versions[0]!, 'bin')
}

/** Under root, the `postgres` system user's ids (initdb refuses root); otherwise nobody: we run it ourselves. */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }))
  return { uid: id('-u'), gid: id('-g') }
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinaries()
  if (typeof bin !== 'string') throw new Error(bin.missing)
  const dir = mkdtempSync(join(tmpdir(), 'countersign-pg-'))
  let owner: ReturnType<typeof clusterOwner>
  const data = join(dir, 'data')
  // Run as the cluster's owner: under root, through runuser; otherwise as ourselves.
  const run = (tool: string, args: readonly string[]) =>
    execFileSync(
      owner ? 'runuser' : join(bin, tool),
      owner ? ['-u', 'postgres', '--', join(bin, tool), ...args] : [...args],
      { stdio: 'pipe', timeout: 60_000 },
    )
  let started = false
  const stop = (mode: 'immediate' | 'fast') => {
    if (!started) return
    started = false
    run('pg_ctl', ['stop', '-D', data, '-m', mode, '-w'])
  }
  try {
    owner = clusterOwner()
    if (owner) chownSync(dir, owner.uid, owner.gid)
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
    const port = await freePort()
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      // The tests kill the server process, not the machine: what it wrote is in the page cache.
      '-c fsync=off',
      '-c max_connections=50',
    ].join(' ')
    const start = () => {
      run('pg_ctl', ['start', '-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o', options])
      started = true
    }
    start()
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      start,
      crash: () => stop('immediate'),
      destroy: () => {
        try {
          stop('immediate')
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      },
    }
  } catch (error) {
    try {
      stop('immediate')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(`the private PostgreSQL cluster could not start: ${stderr || String(error)}`, {
      cause: error,
    })
  }
}
