/** The four answers a callback handler can give (protocol.md §4). */
export const Action = {
  approve: 'APPROVE',
  reject: 'REJECT',
  retry: 'RETRY',
  ignore: 'IGNORE',
} as const
export type Action = (typeof Action)[keyof typeof Action]
export const ACTIONS: readonly Action[] = Object.values(Action)

/**
 * What a request asks for. One route serves both transaction stages; the stage is read from the payload
 * (see `txRequestKind`). Configuration changes have their own route.
 */
export const RequestKind = {
  txApproval: 'tx_approval',
  txSigning: 'tx_signing',
  configChange: 'config_change',
} as const
export type RequestKind = (typeof RequestKind)[keyof typeof RequestKind]
export const REQUEST_KINDS: readonly RequestKind[] = Object.values(RequestKind)

/** IGNORE dismisses an approval without denying it; a signing request cannot be ignored (protocol.md §4.2). */
export function isActionAllowed(kind: RequestKind, action: Action): boolean {
  return !(kind === RequestKind.txSigning && action === Action.ignore)
}
