/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or `COUNTERSIGN_BENCH_CPU_PROF=DIR npm run bench`): the
 * functions with the most self time, with their share of the samples. Usage:
 * `node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP] [LAST_SECONDS]`.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  /** Microseconds between one sample and the next. */
  readonly timeDeltas: readonly number[]
}

/**
 * The samples of the last `seconds` of the profile, minus its final half second (the process shutting
 * down): the benchmark stops a handler right after its measured window, so this drops start-up (module
 * loading and transpiling) and keeps the window.
 */
function lastSeconds(profile: Profile, seconds: number): Profile {
  const at: number[] = []
  let now = 0
  for (const delta of profile.timeDeltas) at.push((now += delta))
  const end = now - 500_000
  const keep = profile.samples.filter((_, index) => at[index]! <= end && at[index]! > end - seconds * 1e6)
  return { ...profile, samples: keep }
}

function label({ callFrame }: ProfileNode): string {
  const where = callFrame.url ? ` ${basename(callFrame.url)}:${callFrame.lineNumber + 1}` : ''
  return `${callFrame.functionName || '(anonymous)'}${where}`
}

function selfTimeShares(profile: Profile): [string, number][] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const counts = new Map<string, number>()
  for (const id of profile.samples) {
    const node = byId.get(id)
    if (!node) continue
    const name = label(node)
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  const total = profile.samples.length || 1
  return [...counts.entries()]
    .map(([name, count]): [string, number] => [name, count / total])
    .sort((a, b) => b[1] - a[1])
}

const [file, top = '25', window] = process.argv.slice(2)
if (file === undefined)
  throw new Error('usage: bench/profile-summary.ts FILE.cpuprofile [TOP] [LAST_SECONDS]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const shares = selfTimeShares(window === undefined ? profile : lastSeconds(profile, Number(window)))
for (const [name, share] of shares.slice(0, Number(top)))
  process.stdout.write(`${(share * 100).toFixed(1).padStart(5)} %  ${name}\n`)
