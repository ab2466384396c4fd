import { afterEach, describe, expect, it } from 'vitest'
import { FakeEvmNode, hashOf } from '../../../test/support/fake-evm-node.js'
import { assetRegistry } from '../chains/index.js'
import { connectEvmNodes } from './evm-node.js'

const SIGNED = '0x02f86c83088bb0018405f5e100'

describe('the EVM chain node', () => {
  const nodes: FakeEvmNode[] = []
  const started = async (options: ConstructorParameters<typeof FakeEvmNode>[0] = {}) => {
    const node = await new FakeEvmNode(options).start()
    nodes.push(node)
    return node
  }
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop()
  })

  it('refuses a node of another chain, naming both chain ids and not the URL path', async () => {
    const mainnet = await started({ chainId: 1n })
    const refused = await connectEvmNodes(assetRegistry(), {
      ETH_TEST6: { rpcUrl: mainnet.url, confirmations: 1 },
    }).then(
      () => new Error('resolved'),
      (error: unknown) => error as Error,
    )
    expect(refused).toMatchObject({ code: 'CS_CHAIN_NODE_MISMATCH' })
    expect(refused.message).toContain('serves chain id 1, but the hub signs ETH_TEST6 for chain id 560048')
    expect(refused.message).not.toContain('secret-api-key')
  })

  it('accepts a node of the configured chain id (evmChainId), and refuses a non-EVM asset', async () => {
    const anvil = await started({ chainId: 31337n })
    const registry = assetRegistry({ evmChainId: 31337n })
    const connected = await connectEvmNodes(registry, { ETH_TEST6: { rpcUrl: anvil.url, confirmations: 3 } })
    expect(connected.get('ETH_TEST6')?.confirmations).toBe(3)
    await expect(
      connectEvmNodes(registry, { BTC_TEST: { rpcUrl: anvil.url, confirmations: 1 } }),
    ).rejects.toThrow('chains.BTC_TEST: the hub has no EVM asset BTC_TEST')
  })

  it('counts a transaction the node already holds, or already mined, as sent', async () => {
    const node = await started()
    const evm = (
      await connectEvmNodes(assetRegistry(), { ETH_TEST6: { rpcUrl: node.url, confirmations: 1 } })
    ).get('ETH_TEST6')!
    expect(await evm.broadcast(SIGNED, hashOf(SIGNED))).toEqual({ accepted: true })
    expect(await evm.broadcast(SIGNED, hashOf(SIGNED))).toEqual({ accepted: true }) // "already known"
    expect(await evm.inclusion(hashOf(SIGNED))).toMatchObject({ included: true, confirmations: 1 })
    node.refuseNextSend = { code: -32000, message: 'nonce too low' }
    expect(await evm.broadcast(SIGNED, hashOf(SIGNED))).toEqual({ accepted: true })
  })

  it('sorts refusals into subStatuses, and leaves a node in trouble to be retried', async () => {
    const node = await started()
    const evm = (
      await connectEvmNodes(assetRegistry(), { ETH_TEST6: { rpcUrl: node.url, confirmations: 1 } })
    ).get('ETH_TEST6')!
    node.refuseNextSend = { code: -32000, message: 'insufficient funds for gas * price + value' }
    expect(await evm.broadcast(SIGNED, hashOf(SIGNED))).toMatchObject({
      accepted: false,
      subStatus: 'INSUFFICIENT_FUNDS',
    })
    node.refuseNextSend = { code: -32000, message: 'replacement transaction underpriced' }
    expect(await evm.broadcast(SIGNED, hashOf(SIGNED))).toEqual({
      accepted: false,
      subStatus: 'REJECTED_BY_BLOCKCHAIN',
      reason: 'the node refused the transaction: replacement transaction underpriced',
    })
    node.refuseNextSend = { code: -32005, message: 'daily request count exceeded' }
    await expect(evm.broadcast(SIGNED, hashOf(SIGNED))).rejects.toMatchObject({ rpcCode: -32005 })
  })
})
