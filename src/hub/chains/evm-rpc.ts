import { ChainError } from './errors.js'

/**
 * A small JSON-RPC client of an EVM node, over the global fetch: the few calls the hub needs to prepare,
 * broadcast and follow a transfer. The only I/O of src/hub/chains. Errors name the node by its host only
 * (an RPC URL often carries an API key in its path) and quote what the node answered.
 */
export interface EvmRpcOptions {
  /** http(s) URL of the node. */
  readonly url: string
  /** How long one call may take; 10 s by default. */
  readonly timeoutMs?: number
  /** Tests. */
  readonly fetch?: typeof fetch
}

export interface EvmFeeSuggestion {
  /** Wei per gas: twice the latest block's base fee plus the tip, so two full blocks in a row still fit. */
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
}

export interface EvmReceipt {
  readonly succeeded: boolean
  readonly blockNumber: bigint
  readonly blockHash: string
}

/** A call the node answered with a JSON-RPC error: `rpcCode` and the node's own message. */
export class EvmNodeRefused extends ChainError {
  readonly rpcCode: number
  readonly nodeMessage: string

  constructor(method: string, host: string, rpcCode: number, nodeMessage: string) {
    super('CS_CHAIN_NODE_REFUSED', `${host} refused ${method}: ${nodeMessage} (code ${rpcCode})`)
    this.rpcCode = rpcCode
    this.nodeMessage = nodeMessage
  }
}

const DEFAULT_TIMEOUT_MS = 10_000
const QUANTITY = /^0x[0-9a-f]+$/i
const HASH = /^0x[0-9a-f]{64}$/i

export class EvmRpc {
  /** The node's host, as errors and logs name it. */
  readonly host: string
  private readonly url: string
  private readonly timeoutMs: number
  private readonly fetch: typeof fetch
  private nextId = 1

  constructor(options: EvmRpcOptions) {
    this.url = options.url
    this.host = new URL(options.url).host
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.fetch = options.fetch ?? globalThis.fetch
  }

  async chainId(): Promise<bigint> {
    return this.quantity('eth_chainId', await this.call('eth_chainId', []))
  }

  /** The next nonce of `address`, counting the transactions the node holds in its pool. */
  async transactionCount(address: string): Promise<bigint> {
    const method = 'eth_getTransactionCount'
    return this.quantity(method, await this.call(method, [address, 'pending']))
  }

  async balance(address: string): Promise<bigint> {
    return this.quantity('eth_getBalance', await this.call('eth_getBalance', [address, 'latest']))
  }

  async blockNumber(): Promise<bigint> {
    return this.quantity('eth_blockNumber', await this.call('eth_blockNumber', []))
  }

  async suggestFees(): Promise<EvmFeeSuggestion> {
    const tipMethod = 'eth_maxPriorityFeePerGas'
    const tip = this.quantity(tipMethod, await this.call(tipMethod, []))
    const block = await this.call('eth_getBlockByNumber', ['latest', false])
    const baseFee = (block as { baseFeePerGas?: unknown } | null)?.baseFeePerGas
    if (baseFee === undefined)
      throw this.unavailable('eth_getBlockByNumber', 'the latest block has no baseFeePerGas (not EIP-1559)')
    const base = this.quantity('eth_getBlockByNumber', baseFee)
    return { maxFeePerGas: 2n * base + tip, maxPriorityFeePerGas: tip }
  }

  /** Sends a signed transaction; its hash as the node computed it. */
  async sendRawTransaction(rawTransaction: string): Promise<string> {
    const method = 'eth_sendRawTransaction'
    return this.hash(method, await this.call(method, [rawTransaction]))
  }

  /** The receipt of a mined transaction; undefined while it is not in a block. */
  async transactionReceipt(txHash: string): Promise<EvmReceipt | undefined> {
    const method = 'eth_getTransactionReceipt'
    const receipt = (await this.call(method, [txHash])) as Record<string, unknown> | null
    if (receipt === null) return undefined
    if (receipt.blockNumber === null || receipt.blockNumber === undefined) return undefined
    if (receipt.status !== '0x1' && receipt.status !== '0x0')
      throw this.unavailable(
        method,
        `the receipt's status is ${JSON.stringify(receipt.status)}, not 0x0 or 0x1`,
      )
    return {
      succeeded: receipt.status === '0x1',
      blockNumber: this.quantity(method, receipt.blockNumber),
      blockHash: this.hash(method, receipt.blockHash),
    }
  }

  private async call(method: string, params: readonly unknown[]): Promise<unknown> {
    const id = this.nextId++
    let response: Response
    let text: string
    try {
      response = await this.fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      text = await response.text()
    } catch (cause) {
      throw this.unavailable(method, `no answer (${describe(cause)})`, cause)
    }
    if (!response.ok) throw this.unavailable(method, `HTTP ${response.status}: ${excerpt(text)}`)
    let body: { result?: unknown; error?: { code?: unknown; message?: unknown } }
    try {
      body = JSON.parse(text) as typeof body
    } catch (cause) {
      throw this.unavailable(method, `not JSON: ${excerpt(text)}`, cause)
    }
    if (typeof body !== 'object' || body === null)
      throw this.unavailable(method, `not a JSON-RPC answer: ${excerpt(text)}`)
    if (body.error !== undefined && body.error !== null)
      throw new EvmNodeRefused(
        method,
        this.host,
        typeof body.error.code === 'number' ? body.error.code : 0,
        typeof body.error.message === 'string' ? body.error.message : excerpt(JSON.stringify(body.error)),
      )
    if (!('result' in body)) throw this.unavailable(method, `no result: ${excerpt(text)}`)
    return body.result
  }

  private quantity(method: string, value: unknown): bigint {
    if (typeof value !== 'string' || !QUANTITY.test(value))
      throw this.unavailable(method, `${JSON.stringify(value)} is not a hex quantity`)
    return BigInt(value)
  }

  private hash(method: string, value: unknown): string {
    if (typeof value !== 'string' || !HASH.test(value))
      throw this.unavailable(method, `${JSON.stringify(value)} is not a 32-byte hash`)
    return value.toLowerCase()
  }

  private unavailable(method: string, what: string, cause?: unknown): ChainError {
    return new ChainError(
      'CS_CHAIN_NODE_UNAVAILABLE',
      `${this.host} ${method}: ${what}`,
      cause === undefined ? undefined : { cause },
    )
  }
}

const excerpt = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text)

const describe = (error: unknown): string =>
  error instanceof Error
    ? error.cause instanceof Error
      ? `${error.message}: ${error.cause.message}`
      : error.message
    : String(error)
