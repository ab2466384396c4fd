/** The hub's webhooks capability: registered endpoints and the transactional outbox of notifications. */
export { enqueueWebhook, webhookOutbox } from './outbox.js'
export type {
  ClaimedWebhook,
  OutboxEntry,
  WebhookClaim,
  WebhookNotification,
  WebhookOutbox,
  WebhookState,
} from './outbox.js'
export type { NewWebhookEndpoint, WebhookEndpoint, WebhookPayloadVersion } from './endpoints.js'
export { HUB_WEBHOOK_MIGRATIONS } from './schema.js'
