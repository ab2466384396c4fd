/** The hub-policy capability: the published transaction policies, the drafts and their votes. */
export { hubPolicyStore } from './store.js'
export type {
  DraftState,
  DraftTransition,
  DraftVote,
  GovernanceAudit,
  GovernanceEvent,
  HubPolicyStore,
  NewDraft,
  PolicyDraft,
  PublishedPolicy,
} from './store.js'
export { HUB_POLICY_MIGRATIONS } from './schema.js'
