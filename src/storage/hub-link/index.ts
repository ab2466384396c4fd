/** The hub-link capability: parties, pairing tokens, mailboxes and jobs of the co-signer ↔ hub link. */
export { HubLinkStore } from './store.js'
export { HUB_LINK_MIGRATIONS } from './schema.js'
export type { Enrolment, LinkParty, PartyKind, RefreshLookup } from './parties.js'
export type { MailboxEntry, OutgoingMessage } from './mailbox.js'
export type {
  LinkJob,
  LinkJobKind,
  LinkJobOutcome,
  LinkJobReshare,
  LinkJobState,
  NewLinkJob,
} from './jobs.js'
