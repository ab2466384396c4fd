/**
 * CPU time spent by processes, read from /proc: user + system time of every thread, living or exited (the
 * kernel folds an exited thread's time into its process). CPU seconds per decision hardly move with the
 * load of a shared machine, where decisions per second do: the other processes take wall time, not the
 * handler's CPU time.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface ProcessCpu {
  readonly pid: number
  readonly ppid: number
  /** utime + stime, in clock ticks. */
  readonly ticks: number
}

/** One reading of every process on the machine, by pid. */
export type CpuSnapshot = ReadonlyMap<number, ProcessCpu>

/**
 * Parses a `/proc/PID/stat` line. The command name (field 2) is in parentheses and may hold spaces or
 * parentheses itself, so the fields are counted from the last `)`: ppid is field 4, utime 14, stime 15.
 */
export function parseProcStat(line: string): ProcessCpu | undefined {
  const close = line.lastIndexOf(')')
  if (close < 0) return undefined
  const pid = Number.parseInt(line, 10)
  const fields = line.slice(close + 2).split(' ')
  const ppid = Number(fields[1])
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (![pid, ppid, utime, stime].every(Number.isFinite)) return undefined
  return { pid, ppid, ticks: utime + stime }
}

export function snapshotCpu(): CpuSnapshot {
  const snapshot = new Map<number, ProcessCpu>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const process = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'))
      if (process) snapshot.set(process.pid, process)
    } catch {
      // The process exited between the listing and the read.
    }
  }
  return snapshot
}

/** `root` and every process descended from it (node:cluster workers are children of the primary). */
export function processTree(snapshot: CpuSnapshot, root: number): number[] {
  const tree = [root]
  for (let index = 0; index < tree.length; index += 1)
    for (const process of snapshot.values()) if (process.ppid === tree[index]) tree.push(process.pid)
  return tree.filter((pid) => snapshot.has(pid))
}

let ticksPerSecond: number | undefined

function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/**
 * CPU seconds the given processes spent between two snapshots. A process born in between counts from
 * zero; one that exited in between is missing from `after` and its last stretch is lost (none of the
 * measured processes exits inside a window).
 */
export function cpuSecondsBetween(before: CpuSnapshot, after: CpuSnapshot, pids: readonly number[]): number {
  let ticks = 0
  for (const pid of new Set(pids)) {
    const end = after.get(pid)
    if (end === undefined) continue
    ticks += end.ticks - (before.get(pid)?.ticks ?? 0)
  }
  return ticks / clockTicksPerSecond()
}

/** CPU ticks per thread name (`node` main thread, `libuv-worker`, V8's helpers...) of `pids` and their threads. */
export function snapshotThreads(pids: readonly number[]): Map<string, number> {
  const byName = new Map<string, number>()
  for (const pid of pids) {
    let tasks: string[]
    try {
      tasks = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    for (const task of tasks) {
      try {
        const line = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8')
        const thread = parseProcStat(line)
        const name = line.slice(line.indexOf('(') + 1, line.lastIndexOf(')'))
        if (thread) byName.set(name, (byName.get(name) ?? 0) + thread.ticks)
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  }
  return byName
}

/** CPU seconds per thread name between two `snapshotThreads`, largest first. */
export function threadSecondsBetween(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): [string, number][] {
  return [...after.entries()]
    .map(([name, ticks]): [string, number] => [
      name,
      (ticks - (before.get(name) ?? 0)) / clockTicksPerSecond(),
    ])
    .filter(([, seconds]) => seconds > 0)
    .sort((a, b) => b[1] - a[1])
}
