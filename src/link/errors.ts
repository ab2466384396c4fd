import { CountersignError, defineErrorCodes } from '../core/index.js'

export const LINK_ERRORS = defineErrorCodes('link', {
  CS_LINK_HUB_UNREACHABLE: {
    meaning: 'the hub did not answer: connection refused or reset, a timeout, or a server error (HTTP 5xx)',
    fix: 'check the hub URL in the configuration and that the hub is up; the party retries with backoff',
  },
  CS_LINK_TOKEN_REFUSED: {
    meaning: 'the hub refused the pairing token, the refresh token or the access token (HTTP 401 or 403)',
    fix: 'pair the co-signer again (a new pairing revokes the old refresh token), or give the cloud co-signer the refresh token `countersign hub init` wrote',
  },
  CS_LINK_PROTOCOL_VIOLATION: {
    meaning:
      'the hub answered something docs/cosigner-protocol.md does not allow: another status, a body that is not JSON, or JSON of the wrong shape',
    fix: 'check that the hub URL names a Countersign hub of a compatible release (endpoints under /cosigner/v1/)',
  },
  CS_LINK_WEBSOCKET_FAILED: {
    meaning:
      'the WebSocket to the hub could not be opened (upgrade refused or dropped) or was cut soon after; the party polls over HTTP instead',
    fix: 'nothing, if it passes: the party falls back to long-poll and retries the WebSocket later; to push again, let WebSocket upgrades through the proxy to the hub, or set the link mode to long-poll',
  },
  CS_LINK_KEY_SHARE: {
    meaning: 'a key share could not be read or written: missing, unreadable, or not a share of this party',
    fix: 'check the key-share directory in the configuration and its permissions (0700, files 0600)',
  },
})
export type LinkErrorCode = keyof typeof LINK_ERRORS.codes

/** Every failure of `src/link`; `status` is the hub's HTTP status when it answered. */
export class LinkError extends CountersignError {
  readonly code: LinkErrorCode
  readonly status: number | undefined
  /** The `code` of the hub's `{ message, code }` answer, when it gave one. */
  readonly hubCode: number | undefined

  constructor(
    code: LinkErrorCode,
    message: string,
    options?: { status?: number; hubCode?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = options?.status
    this.hubCode = options?.hubCode
  }
}
