import { parse as parseYaml } from 'yaml'
import type { PolicyDiagnostic } from '../../policy/index.js'
import type { ServiceApp, ServicePlugin } from '../../service/index.js'
import type { PolicyDraft, PublishedPolicy } from '../../storage/index.js'
import type { PolicyGovernance } from '../policy/index.js'
import { API_CODES, HubApiError } from './api-error.js'
import { ADMINS, POLICY_VOTERS, principalOf, READERS, type HubRouteConfig, type Role } from './roles.js'

/**
 * The TAP routes of the Fireblocks API (hub-api.md §9, legacy editor) over the hub's own policy format:
 * `rules` are our rule objects (docs/hub-policy.md), not Fireblocks' `LegacyPolicyRule`. Drafts are
 * governed (src/hub/policy): publishing needs the OWNER and a quorum of ADMINs, so `POST /v1/tap/draft`
 * answers AWAITING_QUORUM until they have approved, through the hub's extension routes
 * `POST /v1/tap/drafts/{draftId}/approve|reject`.
 */

/** The `rules` of a policy text, as written; none for text that is not a policy document. */
function rulesOf(text: string): unknown[] {
  try {
    const parsed = parseYaml(text) as { rules?: unknown } | null
    return Array.isArray(parsed?.rules) ? parsed.rules : []
  } catch {
    return []
  }
}

/** Diagnostics in the shape of the API's `checkResult`: one result per rule with errors (index −1: the file). */
function checkResult(diagnostics: readonly PolicyDiagnostic[]) {
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 'error')
  const byIndex = new Map<number, PolicyDiagnostic[]>()
  for (const error of errors) {
    const index = Number(/^rules\[(\d+)\]/.exec(error.path)?.[1] ?? -1)
    byIndex.set(index, [...(byIndex.get(index) ?? []), error])
  }
  return {
    errors: errors.length,
    results: [...byIndex].map(([index, found]) => ({
      index,
      status: 'failure',
      errors: found.map((error) => ({
        errorMessage: `${error.line === undefined ? '' : `line ${error.line}: `}${error.message}`,
        errorCode: API_CODES.validation,
        errorCodeName: 'INVALID_POLICY',
        errorField: error.path,
      })),
    })),
  }
}

function validation(diagnostics: readonly PolicyDiagnostic[]) {
  const result = checkResult(diagnostics)
  // `diagnostics` (warnings included) is the hub's addition to the API's shape.
  return { status: result.errors === 0 ? 'SUCCESS' : 'FAILURE', checkResult: result, diagnostics }
}

function publicationStatus(draft: PolicyDraft): string {
  if (draft.state === 'published') return 'SUCCESS'
  if (draft.state === 'rejected') return 'REJECTED'
  return 'AWAITING_QUORUM'
}

function draftView(draft: PolicyDraft) {
  return { draftId: draft.id, state: draft.state, status: publicationStatus(draft), votes: draft.votes }
}

function activeView(active: PublishedPolicy | undefined) {
  return {
    policy: {
      rules: active === undefined ? [] : rulesOf(active.text),
      metadata:
        active === undefined
          ? {}
          : {
              version: active.version,
              digest: active.digest,
              publishedBy: active.publishedBy,
              publishedAt: new Date(active.publishedAt).toISOString(),
            },
    },
    validation: { status: 'SUCCESS', checkResult: { errors: 0, results: [] } },
  }
}

function draftBody(body: unknown): { policy: string } | { rules: unknown[] } {
  if (typeof body === 'object' && body !== null) {
    if ('policy' in body && typeof body.policy === 'string') return { policy: body.policy }
    if ('rules' in body && Array.isArray(body.rules)) return { rules: body.rules }
  }
  throw new HubApiError(400, API_CODES.validation, 'send { rules: [...] } or { policy: "<YAML>" }')
}

function draftIdOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'draftId' in body && typeof body.draftId === 'string') {
    return body.draftId
  }
  throw new HubApiError(400, API_CODES.validation, 'send { draftId } (from PUT /v1/tap/draft)')
}

const config = (roles: readonly Role[]): HubRouteConfig => ({ roles })

export function policyRoutes(governance: PolicyGovernance): ServicePlugin {
  return async (app: ServiceApp) => {
    // A refusal keeps its message: the SDKs show `message` and nothing else (hub-api.md §1.5).
    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof HubApiError) return reply.code(error.statusCode).send(error.body)
      throw error
    })

    app.get('/v1/tap/active_policy', { config: config(READERS) }, async () =>
      activeView(await governance.activeRecord()),
    )

    app.put('/v1/tap/draft', { config: config(ADMINS) }, async (request) => {
      const by = principalOf(request)
      const body = draftBody(request.body)
      const result =
        'policy' in body
          ? await governance.propose(body.policy, by)
          : await governance.proposeRules(body.rules, by)
      const rules = 'rules' in body ? body.rules : rulesOf(body.policy)
      return {
        draftResponse: {
          status: result.ok ? 'SUCCESS' : 'INVALID_CONFIGURATION',
          rules,
          draftId: result.ok ? result.draft.id : null,
          metadata: result.ok
            ? { editedBy: by.id, editedAt: new Date(result.draft.proposedAt).toISOString() }
            : { editedBy: by.id },
        },
        validation: validation(result.diagnostics),
      }
    })

    app.post('/v1/tap/draft', { config: config(ADMINS) }, async (request, reply) => {
      const draft = await governance.submit(draftIdOf(request.body), principalOf(request))
      return reply.code(201).send({
        ...draftView(draft),
        rules: rulesOf(draft.text),
        checkResult: { errors: 0, results: [] },
        metadata: { editedBy: draft.proposedBy, editedAt: new Date(draft.proposedAt).toISOString() },
      })
    })

    for (const vote of ['approve', 'reject'] as const) {
      app.post<{ Params: { draftId: string } }>(
        `/v1/tap/drafts/:draftId/${vote}`,
        { config: config(POLICY_VOTERS) },
        async (request) => draftView(await governance[vote](request.params.draftId, principalOf(request))),
      )
    }
  }
}
