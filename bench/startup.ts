/**
 * Issue 16: what a user installs and how fast the command starts. Packs the tarball (`npm pack` builds
 * `dist/` through `prepare`), installs it into an empty folder as a user would, then prints the installed
 * size (packages, MB) and the median wall time of 10 `countersign --version` runs. Figures and targets,
 * never pass/fail. Runs alone with `npm run bench:startup` (or `npx tsx bench/startup.ts`).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(import.meta.dirname, '..')
const RUNS = 10
const TARGET_MS = 150
const TARGET_MB = 80

type Print = (line: string) => void

function npm(args: readonly string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Packs the package and installs the tarball into `app/`, which holds nothing else. */
function installTarball(work: string): string {
  const tarball = npm(['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').at(-1)!
  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), '{ "name": "startup-bench", "private": true }\n')
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], app)
  return app
}

/** Every package installed (`npm ls` lists each one's folder, the app itself first) and their size on disk. */
function installedSize(app: string): { packages: number; megabytes: number } {
  const folders = npm(['ls', '--all', '--parseable'], app).trim().split('\n')
  const megabytes = Number(
    execFileSync('du', ['-sm', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0],
  )
  return { packages: folders.length - 1, megabytes }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * Wall times of `node ARGS`, with this Node.js (the installed command's shebang `node` may be an older
 * one). One unmeasured run first fills the file cache, as on any machine that ran it once.
 */
function startTimes(args: readonly string[]): number[] {
  const run = () => {
    const started = performance.now()
    const result = spawnSync(process.execPath, args, { encoding: 'utf8' })
    const elapsed = performance.now() - started
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stderr}`)
    return elapsed
  }
  run()
  return Array.from({ length: RUNS }, run)
}

export function benchStartup(print: Print): void {
  const work = mkdtempSync(join(tmpdir(), 'cs-startup-'))
  try {
    const app = installTarball(work)
    const { packages, megabytes } = installedSize(app)
    print(`installed from the tarball: ${packages} packages, ${megabytes} MB (target < ${TARGET_MB} MB)`)
    const times = startTimes([join(app, 'node_modules', 'countersign', 'bin', 'countersign.js'), '--version'])
    // Node.js starting and exiting, measured alongside: on a busy machine the difference is what is ours.
    const nodeAlone = median(startTimes(['-e', '']))
    print(
      `countersign --version: median ${median(times).toFixed(0)} ms of ${RUNS} runs ` +
        `(target < ${TARGET_MS} ms on a quiet machine; Node.js alone: ${nodeAlone.toFixed(0)} ms; ` +
        `load average ${loadavg()[0]!.toFixed(1)})`,
    )
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchStartup((line) => void process.stdout.write(`${line}\n`))
}
