#!/usr/bin/env node
// The installed command. `npm ci` builds dist/ through the `prepare` script.
// Checked before anything is imported: the native SQLite driver crashes on older Node.js instead of failing.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `countersign: Node.js ${process.versions.node} is too old; install Node.js 24 LTS (22.12 at least), ` +
      'or run it through npm (`npm start`, `npm exec countersign`), which uses the Node.js the project installs.\n',
  )
  process.exit(1)
}
// `--version` alone is answered from package.json without loading the command-line parser: scripts and
// health checks call it often, and it should cost little more than starting Node.js.
const [, , only, ...rest] = process.argv
if ((only === '--version' || only === '-V') && rest.length === 0) {
  const { readFileSync } = await import('node:fs')
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${version}\n`)
  process.exit(0)
}
const { main } = await import('../dist/cli/main.js')
process.exitCode = await main(process.argv)
