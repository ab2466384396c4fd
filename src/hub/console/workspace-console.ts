import type { Clock } from '../../core/index.js'
import { consoleShell, type ConsoleConfig } from '../../service/index.js'
import { consoleStore, HubLinkStore, type StorageDatabase } from '../../storage/index.js'
import type { LinkHub } from '../link/index.js'
import type { PolicyGovernance } from '../policy/index.js'
import { consoleActions } from './actions.js'
import { consoleUser, WORKSPACE_CONSOLE_PREFIX } from './console-users.js'
import { consolePages } from './pages.js'
import { policyVoteRoutes } from './policy-votes.js'

export interface WorkspaceConsoleOptions {
  readonly config: ConsoleConfig
  readonly db: StorageDatabase
  readonly link: LinkHub
  readonly governance: PolicyGovernance
  readonly clock: Clock
  readonly adminQuorum: number
}

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/api-users', label: 'API users' },
  { href: '/cosigners', label: 'Co-signers' },
  { href: '/vaults', label: 'Vaults' },
  { href: '/transactions', label: 'Transactions' },
  { href: '/policy', label: 'Policy' },
  { href: '/webhooks', label: 'Webhooks' },
]

/**
 * The workspace console, on the hub's admin listener: people with a workspace role (added with
 * `countersign hub console-link`) sign in with a passkey and see the workspace; what they may change is
 * decided on the server from their role as the store has it at each request, and every change is audited.
 */
export function workspaceConsole(options: WorkspaceConsoleOptions) {
  const { config, db, clock } = options
  return consoleShell(
    {
      prefix: WORKSPACE_CONSOLE_PREFIX,
      party: { origin: config.origin, rpId: config.rpId, name: 'Countersign workspace' },
      state: consoleStore(db, clock),
      admits: async (principal) => (await consoleUser(db, principal)) !== undefined,
      home: '/',
      sessionTtlMs: config.sessionTtlMs,
      nav: NAV,
    },
    (app, kit) => {
      const parties = new HubLinkStore(db, clock)
      const { governance, adminQuorum } = options
      const { apiUsersPage } = consolePages(app, kit, { db, parties, governance, clock, adminQuorum })
      consoleActions(app, kit, { db, link: options.link, clock, apiUsersPage })
      policyVoteRoutes(app, kit, { db, clock, governance })
    },
  )
}
