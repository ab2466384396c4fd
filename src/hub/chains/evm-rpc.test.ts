import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeEvmNode, hashOf } from '../../../test/support/fake-evm-node.js'
import { EvmNodeRefused, EvmRpc } from './evm-rpc.js'

const SIGNED = '0x02f86c83088bb0018405f5e100'

describe('the EVM JSON-RPC client', () => {
  let node: FakeEvmNode
  let rpc: EvmRpc

  beforeAll(async () => {
    node = await new FakeEvmNode({ chainId: 31337n, balance: 5n, nonce: 9n, baseFee: 7n, tip: 3n }).start()
    rpc = new EvmRpc({ url: node.url })
  })
  afterAll(() => node.stop())

  it('reads the chain id, the pending nonce, the balance and the head', async () => {
    expect(await rpc.chainId()).toBe(31337n)
    expect(await rpc.transactionCount('0x00000000000000000000000000000000000000aa')).toBe(9n)
    expect(await rpc.balance('0x00000000000000000000000000000000000000aa')).toBe(5n)
    expect(await rpc.blockNumber()).toBe(node.head)
  })

  it('suggests twice the base fee plus the tip as the fee cap', async () => {
    expect(await rpc.suggestFees()).toEqual({ maxFeePerGas: 17n, maxPriorityFeePerGas: 3n })
  })

  it('sends a raw transaction, then finds no receipt until it is mined', async () => {
    const mining = await new FakeEvmNode({ mineAfterPolls: 2 }).start()
    try {
      const client = new EvmRpc({ url: mining.url })
      expect(await client.sendRawTransaction(SIGNED)).toBe(hashOf(SIGNED))
      expect(await client.transactionReceipt(hashOf(SIGNED))).toBeUndefined()
      expect(await client.transactionReceipt(hashOf(SIGNED))).toEqual({
        succeeded: true,
        blockNumber: 102n,
        blockHash: `0x${'66'.padStart(64, 'b')}`,
      })
    } finally {
      await mining.stop()
    }
  })

  it("quotes the node's JSON-RPC error with its code", async () => {
    await rpc.sendRawTransaction(SIGNED)
    const refused = await rpc.sendRawTransaction(SIGNED).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(EvmNodeRefused)
    expect(refused).toMatchObject({
      code: 'CS_CHAIN_NODE_REFUSED',
      rpcCode: -32000,
      nodeMessage: 'already known',
    })
  })

  it('names the host, never the URL path with its API key, when the node is unreachable or answers badly', async () => {
    const unreachable = new EvmRpc({ url: 'http://127.0.0.1:1/v3/secret-api-key' })
    const down = await unreachable.chainId().then(
      () => new Error('resolved'),
      (error: unknown) => error as Error,
    )
    expect(down).toMatchObject({ code: 'CS_CHAIN_NODE_UNAVAILABLE' })
    expect(down.message).toMatch(/^127\.0\.0\.1:1 eth_chainId: no answer/)
    const httpError = new EvmRpc({
      url: 'https://rpc.example/v3/secret-api-key',
      fetch: async () => new Response('upstream overloaded', { status: 503 }),
    })
    const overloaded = await httpError.blockNumber().then(
      () => new Error('resolved'),
      (error: unknown) => error as Error,
    )
    expect(overloaded.message).toBe('rpc.example eth_blockNumber: HTTP 503: upstream overloaded')
    for (const error of [down, overloaded]) expect(error.message).not.toContain('secret-api-key')
  })

  it('gives up on a node that does not answer in time', async () => {
    const silent = new EvmRpc({
      url: 'http://127.0.0.1:8545',
      timeoutMs: 50,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)),
        ),
    })
    await expect(silent.chainId()).rejects.toMatchObject({
      code: 'CS_CHAIN_NODE_UNAVAILABLE',
      message: expect.stringMatching(/no answer \(.*timeout/i) as unknown,
    })
  })

  it('refuses answers that are not JSON-RPC quantities', async () => {
    const liar = new EvmRpc({
      url: 'http://127.0.0.1:8545',
      fetch: async () => Response.json({ jsonrpc: '2.0', id: 1, result: '12' }),
    })
    await expect(liar.balance('0x00000000000000000000000000000000000000aa')).rejects.toThrow(
      '127.0.0.1:8545 eth_getBalance: "12" is not a hex quantity',
    )
    const notJson = new EvmRpc({ url: 'http://127.0.0.1:8545', fetch: async () => new Response('<html>') })
    await expect(notJson.chainId()).rejects.toThrow('eth_chainId: not JSON: <html>')
  })
})
