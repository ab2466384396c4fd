import { join, relative } from 'node:path'
import { consoleSteps } from '../console-steps.js'
import { DEV_CONSOLE_OWNER, type DevCosigner, type RunningDev } from './system.js'

const ALGORITHM_NAMES: Readonly<Record<string, string>> = {
  MPC_ECDSA_SECP256K1: 'ECDSA secp256k1',
  MPC_EDDSA_ED25519: 'EdDSA Ed25519',
}

function cosignerLine(cosigner: DevCosigner): string {
  const sets =
    cosigner.keySets.length === 0
      ? 'no key set yet: the hub reshares the first co-signer’s sets to it in a few seconds; until then the first signs'
      : `key sets ${cosigner.keySets.map((algorithm) => ALGORITHM_NAMES[algorithm] ?? algorithm).join(', ')}`
  const callback = cosigner.callback
    ? 'asks the callback handler before each signature'
    : 'no callback handler: approves by itself'
  return `${cosigner.name} (API user ${cosigner.apiUser.name}): ${callback}; ${sets}`
}

/** A JavaScript string literal in single quotes. */
const quoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** The `@fireblocks/ts-sdk` lines that reach this hub as the banner's API user. */
function sdkSnippet(dev: RunningDev): string[] {
  const { apiUser, hubUrl } = dev.state
  return [
    "  import { readFileSync } from 'node:fs'",
    "  import { Fireblocks } from '@fireblocks/ts-sdk'",
    '  const fireblocks = new Fireblocks({',
    `    apiKey: ${quoted(apiUser.apiKey)},`,
    `    secretKey: readFileSync(${quoted(apiUser.privateKey)}, 'utf8'),`,
    `    basePath: ${quoted(`${hubUrl}/v1`)},`,
    '  })',
    '  const { data } = await fireblocks.vaults.getPagedVaultAccounts({})',
  ]
}

/**
 * What `countersign dev` prints once everything is up: where each service is, the API key and private key
 * to call the hub with, a snippet for the official SDK, the demo vault's addresses and the next command.
 */
export function devBanner(
  dev: RunningDev,
  options: { readonly cwd: string; readonly countersign: string; readonly demo: string },
): string {
  const path = (file: string) => relative(options.cwd, file) || '.'
  const { state, vault } = dev
  const cosigners = dev.cosigners.map(cosignerLine)
  return [
    '',
    'Countersign dev — the whole system on this machine (DEVELOPMENT: plain HTTP on loopback, keys in files)',
    `  pid ${process.pid}: Ctrl-C or SIGTERM stops everything; SIGHUP reloads the callback handler's policy`,
    `  state in ${path(dev.layout.root)}/ (${dev.firstStart ? 'created now' : 'reused'}; delete it to start over)`,
    '',
    `  hub (Fireblocks API)  ${state.hubUrl}/v1`,
    `  API key               ${state.apiUser.apiKey} (API user ${state.apiUser.name}, role SIGNER)`,
    `  private key           ${path(state.apiUser.privateKey)}`,
    `  callback handler      ${state.handlerUrl} (policy ${path(dev.layout.handler)}/policy.yaml${dev.handler.adminUrl === undefined ? '' : `; probes ${dev.handler.adminUrl}`})`,
    ...(dev.handler.consoleUrl === undefined ? [] : [`  approvals console     ${dev.handler.consoleUrl}`]),
    ...(dev.workspaceConsole === undefined ? [] : [`  workspace console     ${dev.workspaceConsole.url}`]),
    '  cloud co-signers      cloud1, cloud2: linked to the hub',
    `  co-signers            ${cosigners.join(`\n${' '.repeat(24)}`)}`,
    `  Owner                 API key ${dev.owner.apiKey}, private key ${path(dev.owner.keyPath)}`,
    `  logs                  ${path(dev.layout.logs)}/ (one JSON file per service)`,
    '',
    `Demo vault ${vault.id} "${vault.name}":`,
    ...Object.entries(vault.addresses).map(([asset, address]) => `  ${asset.padEnd(10)} ${address}`),
    '  No chain node is configured: the hub sees no deposits, and its balances are its own ledger of what it',
    '  signed (docs/hub.md). Transfers complete once signed, with the signed transaction to broadcast yourself.',
    '',
    'Call it with @fireblocks/ts-sdk (e.g. in an .mjs file):',
    ...sdkSnippet(dev),
    '',
    'Run the minimal flow (vault, address, RAW signature, transfer), each signature verified:',
    `  ${options.demo}`,
    "The callback handler's answers, with the rule that decided each:",
    `  ${options.countersign} decisions list --store sqlite:${path(dev.layout.handlerDatabase)}`,
    ...consoleSteps(options.countersign, dev.handler, path(join(dev.layout.handler, 'countersign.yaml'))),
    ...(dev.workspaceConsole === undefined
      ? []
      : [
          `Sign in to the workspace console as ${DEV_CONSOLE_OWNER} (role OWNER): enrol a passkey once with this single-use link (24 h; a new one at every start):`,
          `  ${dev.workspaceConsole.enrolLink}`,
        ]),
    '',
  ].join('\n')
}
