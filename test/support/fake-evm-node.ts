import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

/**
 * An EVM JSON-RPC node for tests, on 127.0.0.1: answers the calls the hub makes, records every
 * eth_sendRawTransaction, mines a transaction at the N-th receipt poll, and advances one block per poll, so
 * each poll adds a confirmation. Re-sending a transaction it holds answers "already known", as geth does.
 */
export interface FakeEvmNodeOptions {
  chainId?: bigint
  balance?: bigint
  /** The pending transaction count of every address. */
  nonce?: bigint
  baseFee?: bigint
  tip?: bigint
  /** The receipt poll at which a sent transaction is mined (1 = the first poll finds it). */
  mineAfterPolls?: number
  /** Mined transactions have status 0x0. */
  revert?: boolean
}

export class FakeEvmNode {
  readonly sent: string[] = []
  /** Every method called, in order. */
  readonly calls: string[] = []
  options: Required<FakeEvmNodeOptions>
  /** The next eth_sendRawTransaction records the transaction, then drops the connection unanswered. */
  dropNextSend = false
  /** The next eth_sendRawTransaction answers this JSON-RPC error. */
  refuseNextSend: { code: number; message: string } | undefined
  head = 100n
  private readonly pool = new Map<string, { polls: number; minedAt?: bigint }>()
  private server: Server | undefined
  url = ''

  constructor(options: FakeEvmNodeOptions = {}) {
    this.options = {
      chainId: 560048n,
      balance: 10n ** 18n,
      nonce: 0n,
      baseFee: 7n,
      tip: 1_000_000_000n,
      mineAfterPolls: 1,
      revert: false,
      ...options,
    }
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] }
        this.calls.push(method)
        if (method === 'eth_sendRawTransaction' && this.dropNextSend) {
          this.dropNextSend = false
          this.accept(String(params[0]))
          response.socket?.destroy()
          return
        }
        const answer = this.answer(method, params)
        response.setHeader('content-type', 'application/json')
        response.end(JSON.stringify({ jsonrpc: '2.0', id, ...answer }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    this.server = server
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/secret-api-key`
    return this
  }

  async stop(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private answer(method: string, params: unknown[]): { result: unknown } | { error: unknown } {
    const hex = (value: bigint) => `0x${value.toString(16)}`
    switch (method) {
      case 'eth_chainId':
        return { result: hex(this.options.chainId) }
      case 'eth_getTransactionCount':
        return { result: hex(this.options.nonce) }
      case 'eth_getBalance':
        return { result: hex(this.options.balance) }
      case 'eth_maxPriorityFeePerGas':
        return { result: hex(this.options.tip) }
      case 'eth_getBlockByNumber':
        return { result: { number: hex(this.head), baseFeePerGas: hex(this.options.baseFee) } }
      case 'eth_blockNumber':
        return { result: hex(this.head) }
      case 'eth_sendRawTransaction':
        return this.send(String(params[0]))
      case 'eth_getTransactionReceipt':
        return { result: this.receipt(String(params[0])) }
      default:
        return { error: { code: -32601, message: `the method ${method} does not exist/is not available` } }
    }
  }

  private send(raw: string): { result: unknown } | { error: unknown } {
    const refusal = this.refuseNextSend
    this.refuseNextSend = undefined
    if (refusal !== undefined) {
      this.sent.push(raw)
      return { error: refusal }
    }
    const known = this.pool.has(hashOf(raw))
    const hash = this.accept(raw)
    return known ? { error: { code: -32000, message: 'already known' } } : { result: hash }
  }

  /** Records the transaction and holds it in the pool. */
  private accept(raw: string): string {
    this.sent.push(raw)
    const hash = hashOf(raw)
    if (!this.pool.has(hash)) this.pool.set(hash, { polls: 0 })
    return hash
  }

  private receipt(hash: string): unknown {
    const held = this.pool.get(hash)
    if (held === undefined) return null
    this.head += 1n
    held.polls += 1
    if (held.minedAt === undefined && held.polls >= this.options.mineAfterPolls) held.minedAt = this.head
    if (held.minedAt === undefined) return null
    return {
      transactionHash: hash,
      blockNumber: `0x${held.minedAt.toString(16)}`,
      blockHash: `0x${held.minedAt.toString(16).padStart(64, 'b')}`,
      status: this.options.revert ? '0x0' : '0x1',
    }
  }
}

export function hashOf(raw: string): string {
  return `0x${bytesToHex(keccak_256(hexToBytes(raw.replace(/^0x/, ''))))}`
}
