import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../test/support/cli.js'
import { CLI } from '../../test/support/process.js'
import { ExitCode } from './io.js'
import { COMMANDS } from './main.js'

const ROOT = join(import.meta.dirname, '..', '..')
const run = promisify(execFile)

/**
 * Runs the built command with a module hook that prints, on exit, every file of this project and every
 * package it loaded: what a start-up costs is what it imports.
 */
async function modulesLoadedBy(args: readonly string[]): Promise<string[]> {
  const hook = `
    import { registerHooks } from 'node:module'
    const loaded = []
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context) } })
    process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(loaded) + '\\n'))`
  const { stderr } = await run(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, CLI, ...args],
    { cwd: ROOT },
  )
  const line = stderr.split('\n').find((text) => text.startsWith('LOADED '))
  return JSON.parse(line!.slice('LOADED '.length)) as string[]
}

describe('countersign', () => {
  it('prints the version of its package.json', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    const result = await runCli(['--version'], ROOT)
    expect(result.code).toBe(ExitCode.ok)
    expect(result.out.trim()).toBe(manifest.version)
  })

  it('lists every command in its help with the first line of its description', async () => {
    for (const command of COMMANDS) {
      const program = new Command('countersign')
      ;(await command.load())(program, { io: { out() {}, err() {}, cwd: ROOT, env: {} }, exitCode: 0 })
      const registered = program.commands.find((candidate) => candidate.name() === command.name)
      expect(registered?.description().split('\n')[0]).toBe(command.summary)
    }
    const help = await runCli(['--help'], ROOT)
    expect(help.code).toBe(ExitCode.ok)
    for (const command of COMMANDS) expect(help.out).toMatch(new RegExp(`^  ${command.name} `, 'm'))
  })

  it('runs the requested command in full and names an unknown one', async () => {
    const help = await runCli(['help', 'policy'], ROOT)
    expect(help.out).toMatch(/replay/)
    const unknown = await runCli(['polcy'], ROOT)
    expect(unknown.code).toBe(ExitCode.usage)
    expect(unknown.err).toMatch(/unknown command 'polcy'/)
  })

  it('imports no command module for --version and --help, and only its own for a command', async () => {
    const commandModules = (urls: string[]) =>
      urls
        .filter((url) => url.includes('/cli/commands/'))
        .map((url) => url.replace(/.*\/cli\/commands\//, ''))
    for (const args of [['--version'], ['--help']]) {
      const loaded = await modulesLoadedBy(args)
      expect(commandModules(loaded)).toEqual([])
      expect(loaded.filter((url) => url.includes('/node_modules/viem/'))).toEqual([])
    }
    expect(commandModules(await modulesLoadedBy(['keys', '--help']))).toEqual(['keys.js'])
  })
})
