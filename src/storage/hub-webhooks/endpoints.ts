import { tables, type Executor } from '../database/index.js'
import type { HubWebhookTables } from './schema.js'

/** Which envelope an endpoint receives (docs/hub-webhooks.md): Fireblocks' v1 or v2 notification format. */
export type WebhookPayloadVersion = 'v1' | 'v2'

/** A URL the hub notifies, and of what. */
export interface WebhookEndpoint {
  readonly id: string
  readonly url: string
  /** v2 event names (`transaction.created`, `transaction.status.updated`), whatever the payload version. */
  readonly events: readonly string[]
  readonly payloadVersion: WebhookPayloadVersion
  readonly enabled: boolean
  readonly description: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

export type NewWebhookEndpoint = Omit<WebhookEndpoint, 'createdAt' | 'updatedAt'>

type EndpointRow = HubWebhookTables['hub_webhook_endpoints']

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events_json) as string[],
    payloadVersion: row.payload_version === 'v2' ? 'v2' : 'v1',
    enabled: Number(row.enabled) === 1,
    description: row.description,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

export async function insertEndpoint(
  db: Executor,
  endpoint: NewWebhookEndpoint,
  now: number,
): Promise<WebhookEndpoint> {
  const row: EndpointRow = {
    id: endpoint.id,
    url: endpoint.url,
    events_json: JSON.stringify(endpoint.events),
    payload_version: endpoint.payloadVersion,
    enabled: endpoint.enabled ? 1 : 0,
    description: endpoint.description,
    created_at: now,
    updated_at: now,
  }
  await tables<HubWebhookTables>(db).insertInto('hub_webhook_endpoints').values(row).execute()
  return toEndpoint(row)
}

/** Every endpoint, oldest first. */
export async function selectEndpoints(db: Executor): Promise<WebhookEndpoint[]> {
  const rows = await tables<HubWebhookTables>(db)
    .selectFrom('hub_webhook_endpoints')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map(toEndpoint)
}

/** The enabled endpoints subscribed to `eventType`. */
export async function subscribedEndpoints(db: Executor, eventType: string): Promise<WebhookEndpoint[]> {
  const endpoints = await selectEndpoints(db)
  return endpoints.filter((endpoint) => endpoint.enabled && endpoint.events.includes(eventType))
}
