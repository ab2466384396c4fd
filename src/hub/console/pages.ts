import type { Clock } from '../../core/index.js'
import type { ConsoleKit, ServiceApp, ServiceReply, ServiceRequest } from '../../service/index.js'
import {
  hubCosignerStore,
  listApiUsers,
  listTransactions,
  readTransaction,
  readTransactionHistory,
  vaultStore,
  webhookOutbox,
  type HubLinkStore,
  type StorageDatabase,
} from '../../storage/index.js'
import type { PolicyGovernance } from '../policy/index.js'
import { API_USER_ROLES } from '../rest/api-users.js'
import { currentCallbackHandler } from '../rest/cosigner-routes.js'
import { ADMINS } from '../rest/roles.js'
import { consoleUser } from './console-users.js'
import { apiUserRow, cosignerRow, timeline, transactionRow } from './view-model.js'

/** How often an open page is refreshed from the store (co-signers, a transaction's timeline). */
const LIVE_INTERVAL_MS = 1_000
const LIST_LIMIT = 100

export interface ConsolePagesOptions {
  readonly db: StorageDatabase
  readonly parties: HubLinkStore
  readonly governance: PolicyGovernance
  readonly clock: Clock
  /** ADMIN approvals a draft needs besides the Owner's (hub.yaml's policy.adminQuorum). */
  readonly adminQuorum: number
}

async function cosignerRows(options: ConsolePagesOptions) {
  const { db, parties, clock } = options
  const handlers = hubCosignerStore(db, clock)
  const now = clock.now()
  const users = (await db.read(listApiUsers)).map(apiUserRow).filter((user) => user.signs)
  const known = await parties.parties()
  const rows = []
  for (const user of users) {
    const party = known.find((candidate) => candidate.name === user.id)
    const handler = party === undefined ? undefined : await currentCallbackHandler(handlers, party)
    rows.push({ ...cosignerRow(user.name, party, handler, now), apiUserId: user.id })
  }
  const clouds = known
    .filter((party) => party.kind === 'cloud')
    .map((party) => ({ ...cosignerRow(party.name, party, undefined, now), apiUserId: '-' }))
  return [...rows, ...clouds]
}

async function vaultRows(db: StorageDatabase, clock: Clock) {
  const vaults = vaultStore(db, clock)
  const accounts = (await vaults.pageAccounts({}, { order: 'ASC', limit: LIST_LIMIT })).items
  const wallets = await vaults.listWallets(accounts.map((account) => account.id))
  return Promise.all(
    accounts.map(async (account) => ({
      id: account.id,
      name: account.name,
      wallets: await Promise.all(
        wallets
          .filter((wallet) => wallet.vaultId === account.id)
          .map(async (wallet) => ({
            assetId: wallet.assetId,
            addresses: (await vaults.listAddresses(wallet)).map((address) => address.address),
          })),
      ),
    })),
  )
}

async function transactionPage(db: StorageDatabase, id: string) {
  const [tx, history] = await db.read(
    async (reader) => [await readTransaction(reader, id), await readTransactionHistory(reader, id)] as const,
  )
  return tx === undefined ? undefined : { tx: transactionRow(tx), timeline: timeline(history) }
}

/** Each active rule in order, with how many of the recent transactions it decided. */
async function policyView(options: ConsolePagesOptions) {
  const record = await options.governance.activeRecord()
  const policy = await options.governance.activePolicy()
  const recent = await options.db.read((reader) =>
    listTransactions(reader, { sort: 'DESC', limit: LIST_LIMIT }),
  )
  const matched = (ruleId: string) => recent.filter((tx) => tx.ruleId === ruleId).map((tx) => tx.id)
  return {
    awaiting: await options.governance.awaitingQuorum(),
    record:
      record === undefined ? null : { ...record, publishedAt: new Date(record.publishedAt).toISOString() },
    rules: policy.ruleIds.map((id, index) => ({ position: index + 1, id, matched: matched(id) })),
  }
}

/**
 * The console's pages, every one behind a session: overview, API users (with the create form), co-signers
 * (live), vaults and addresses, transactions and each one's timeline (live), the policy, webhooks.
 */
export function consolePages(app: ServiceApp, kit: ConsoleKit, options: ConsolePagesOptions) {
  const { db, clock } = options
  const signedIn = { preHandler: kit.signedIn }
  const roleOf = async (request: ServiceRequest) => (await consoleUser(db, kit.principalOf(request)))?.role

  const apiUsersPage = async (
    request: ServiceRequest,
    reply: ServiceReply,
    message: { readonly notice?: string; readonly error?: string },
    status: number,
  ) => {
    const role = await roleOf(request)
    reply.code(status)
    return kit.page(reply, 'workspace/api-users', {
      title: 'API users',
      users: (await db.read(listApiUsers)).map(apiUserRow),
      roles: API_USER_ROLES,
      mayManage: role !== undefined && ADMINS.includes(role),
      isOwner: role === 'OWNER',
      notice: message.notice ?? null,
      error: message.error ?? null,
    })
  }

  app.get(`${kit.prefix}/`, signedIn, async (request, reply) => {
    const [users, transactions] = await db.read(
      async (reader) =>
        [await listApiUsers(reader), await listTransactions(reader, { sort: 'DESC', limit: 10 })] as const,
    )
    return kit.page(reply, 'workspace/overview', {
      title: 'Workspace',
      role: await roleOf(request),
      apiUsers: users.length,
      cosigners: await cosignerRows(options),
      transactions: transactions.map(transactionRow),
    })
  })

  app.get(`${kit.prefix}/api-users`, signedIn, (request, reply) => apiUsersPage(request, reply, {}, 200))

  app.get(`${kit.prefix}/cosigners`, signedIn, async (_request, reply) =>
    kit.page(reply, 'workspace/cosigners', { title: 'Co-signers', cosigners: await cosignerRows(options) }),
  )
  app.get(`${kit.prefix}/cosigners/events`, signedIn, (request, reply) => {
    kit.stream(request, reply, {
      name: 'cosigners',
      intervalMs: LIVE_INTERVAL_MS,
      snapshot: async () =>
        app.view('workspace/cosigners-list', { prefix: kit.prefix, cosigners: await cosignerRows(options) }),
    })
  })

  app.get(`${kit.prefix}/vaults`, signedIn, async (_request, reply) =>
    kit.page(reply, 'workspace/vaults', { title: 'Vaults', vaults: await vaultRows(db, clock) }),
  )

  app.get(`${kit.prefix}/transactions`, signedIn, async (_request, reply) => {
    const transactions = await db.read((reader) =>
      listTransactions(reader, { sort: 'DESC', limit: LIST_LIMIT }),
    )
    return kit.page(reply, 'workspace/transactions', {
      title: 'Transactions',
      transactions: transactions.map(transactionRow),
    })
  })
  app.get<{ Params: { id: string } }>(`${kit.prefix}/transactions/:id`, signedIn, async (request, reply) => {
    const view = await transactionPage(db, request.params.id)
    if (view === undefined) return reply.code(404).send('')
    return kit.page(reply, 'workspace/transaction', { title: `Transaction ${view.tx.id}`, ...view })
  })
  app.get<{ Params: { id: string } }>(`${kit.prefix}/transactions/:id/events`, signedIn, (request, reply) => {
    kit.stream(request, reply, {
      name: 'transaction',
      intervalMs: LIVE_INTERVAL_MS,
      snapshot: async () =>
        app.view('workspace/transaction-status', {
          prefix: kit.prefix,
          ...(await transactionPage(db, request.params.id)),
        }),
    })
  })

  app.get(`${kit.prefix}/policy`, signedIn, async (_request, reply) =>
    kit.page(reply, 'workspace/policy', { title: 'Policy', ...(await policyView(options)) }),
  )

  app.get<{ Params: { id: string } }>(`${kit.prefix}/policy/drafts/:id`, signedIn, async (request, reply) => {
    const draft = await options.governance.draft(request.params.id)
    if (draft === undefined) return reply.code(404).send('')
    const user = await consoleUser(db, kit.principalOf(request))
    return kit.page(reply, 'workspace/draft', {
      title: `Policy draft ${draft.id}`,
      draft: {
        ...draft,
        proposedAt: new Date(draft.proposedAt).toISOString(),
        votes: draft.votes.map((vote) => ({ ...vote, at: new Date(vote.at).toISOString() })),
      },
      adminQuorum: options.adminQuorum,
      votesAs: user?.apiUserId ?? null,
    })
  })

  app.get(`${kit.prefix}/webhooks`, signedIn, async (_request, reply) => {
    const endpoints = await webhookOutbox(db).listEndpoints()
    return kit.page(reply, 'workspace/webhooks', {
      title: 'Webhooks',
      endpoints: endpoints.map((endpoint) => ({ ...endpoint, events: endpoint.events.join(', ') })),
    })
  })

  return { apiUsersPage }
}
