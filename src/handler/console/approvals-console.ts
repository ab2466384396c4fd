import type { Clock } from '../../core/index.js'
import { consoleShell, type ConsoleConfig, type ConsoleKit, type ServiceApp } from '../../service/index.js'
import type { DecisionFilter, Route, Store } from '../../storage/index.js'
import { decisionCard, holdCard } from './view-model.js'
import { voteRoutes } from './vote-routes.js'

export const CONSOLE_PREFIX = '/console'
/** How often an open page's list of holds is refreshed from the store. */
const LIVE_INTERVAL_MS = 1_000
const SEARCH_LIMIT = 50
const SEARCH_FIELDS = ['requestId', 'txId', 'destination', 'rule', 'action'] as const
type SearchField = (typeof SEARCH_FIELDS)[number]

export interface ApprovalsConsoleOptions {
  readonly config: ConsoleConfig
  readonly store: Store
  readonly clock: Clock
}

async function holdsOf(store: Store, principal: string, now: Date) {
  return (await store.listHeld()).map((held) => holdCard(held, principal, now))
}

async function search(store: Store, field: SearchField, query: string) {
  if (query === '') return store.findDecisions({ limit: SEARCH_LIMIT })
  if (field === 'requestId') return store.readDecision(query)
  const filter: DecisionFilter = {
    limit: SEARCH_LIMIT,
    ...(field === 'txId' ? { txId: query } : {}),
    ...(field === 'destination' ? { destination: query } : {}),
    ...(field === 'rule' ? { ruleId: query } : {}),
    ...(field === 'action' ? { action: query.toUpperCase() } : {}),
  }
  return store.findDecisions(filter)
}

async function auditStatus(store: Store) {
  const result = await store.verifyAudit().catch(() => undefined)
  if (result === undefined) return { ok: false, text: 'the audit chain could not be read' }
  return result.ok
    ? {
        ok: true,
        text: `intact: ${result.entries} entries, head ${result.headHash}; ${result.decisions} decisions match it`,
      }
    : { ok: false, text: `BROKEN at entry ${result.brokenSeq}: ${result.problem}` }
}

function pages(app: ServiceApp, kit: ConsoleKit, options: ApprovalsConsoleOptions): void {
  const { store, clock } = options
  const now = () => new Date(clock.now())
  const signedIn = { preHandler: kit.signedIn }

  app.get(`${kit.prefix}/`, signedIn, async (request, reply) => {
    const principal = kit.principalOf(request)
    return kit.page(reply, 'approvals/holds', {
      title: 'Pending approvals',
      holds: await holdsOf(store, principal, now()),
    })
  })

  app.get(`${kit.prefix}/events`, signedIn, (request, reply) => {
    const principal = kit.principalOf(request)
    kit.stream(request, reply, {
      name: 'holds',
      intervalMs: LIVE_INTERVAL_MS,
      snapshot: async () =>
        app.view('approvals/holds-list', {
          prefix: kit.prefix,
          holds: await holdsOf(store, principal, now()),
        }),
    })
  })

  app.get<{ Params: { route: string; requestId: string } }>(
    `${kit.prefix}/requests/:route/:requestId`,
    signedIn,
    async (request, reply) => {
      const principal = kit.principalOf(request)
      const { route, requestId } = request.params
      const [decision] = await store.readDecision(requestId, route as Route)
      if (decision === undefined) return reply.code(404).send('')
      const held = (await store.listHeld()).find(
        (item) => item.route === route && item.requestId === requestId,
      )
      return kit.page(reply, 'approvals/request', {
        title: `Request ${requestId}`,
        decision: decisionCard(decision),
        hold: held === undefined ? null : holdCard(held, principal, now()),
      })
    },
  )

  app.get<{ Querystring: { field?: string; q?: string } }>(
    `${kit.prefix}/decisions`,
    signedIn,
    async (request, reply) => {
      const field = SEARCH_FIELDS.find((name) => name === request.query.field) ?? 'requestId'
      const query = (request.query.q ?? '').trim()
      const decisions = (await search(store, field, query)).map(decisionCard)
      return kit.page(reply, 'approvals/decisions', {
        title: 'Decisions',
        field,
        fields: SEARCH_FIELDS,
        query,
        decisions,
        audit: await auditStatus(store),
      })
    },
  )
}

/**
 * The approvals console, on the handler's admin listener: pending holds (live), each in full with its
 * trace, approve or reject with a passkey, recent decisions, the audit chain's state. Only registered
 * approvers sign in; only the approvers a hold's rule names may vote on it.
 */
export function approvalsConsole(options: ApprovalsConsoleOptions) {
  const { config, store } = options
  const registered = async (principal: string) =>
    (await store.listApprovers()).some((approver) => approver.id === principal)
  return consoleShell(
    {
      prefix: CONSOLE_PREFIX,
      party: { origin: config.origin, rpId: config.rpId, name: 'Countersign approvals' },
      state: store.console,
      admits: registered,
      home: '/',
      sessionTtlMs: config.sessionTtlMs,
      nav: [
        { href: '/', label: 'Pending' },
        { href: '/decisions', label: 'Decisions' },
      ],
    },
    (app, kit) => {
      pages(app, kit, options)
      voteRoutes(app, kit, store, () => options.clock.now())
    },
  )
}
