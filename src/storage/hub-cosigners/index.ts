/** The hub-cosigners capability: co-signer names, each API user's callback handler, the API's commands. */
export { hubCosignerStore } from './store.js'
export type {
  CallbackHandlerConfig,
  CosignerCommand,
  CosignerRequest,
  CosignerRequestStatus,
  CosignerRequestType,
  HubCosignerStore,
  StoredCallbackHandler,
} from './store.js'
export { HUB_COSIGNER_MIGRATIONS } from './schema.js'
