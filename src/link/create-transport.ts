import { HttpLinkTransport, type LinkTransport } from './transport.js'
import { WebSocketLinkTransport, type WebSocketLinkTransportOptions } from './websocket-transport.js'

/** How the mailbox reaches the party: pushed over a WebSocket (long-poll when that fails), or long-polled. */
export type LinkMode = 'websocket' | 'long-poll'

export interface LinkTransportOptions extends WebSocketLinkTransportOptions {
  readonly mode: LinkMode
}

/** The transport a co-signer (customer or cloud) talks to the hub with; `signal` ends its WebSocket. */
export function createLinkTransport(options: LinkTransportOptions): LinkTransport {
  return options.mode === 'websocket' ? new WebSocketLinkTransport(options) : new HttpLinkTransport(options)
}
