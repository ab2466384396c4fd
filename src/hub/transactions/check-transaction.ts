import type { VaultStore } from '../../storage/index.js'
import { assertDerivationPath, ChainError } from '../chains/index.js'
import { checkContent } from '../pipeline/signing-plan.js'
import { API_CODES, HubApiError } from '../rest/api-error.js'
import type { WorkspaceChains } from '../workspace/chain-adapter.js'
import type { CreateTransaction } from './request-schema.js'

/**
 * What a new transaction must satisfy against the workspace, before it is recorded: the asset is served,
 * the source vault exists, a transfer's asset can be transferred and its destination is a valid address
 * of that chain or an existing vault, a RAW message fits its algorithm and a derivation path is BIP44.
 * Everything refused here is a 4xx naming the field; nothing is recorded.
 */
const invalid = (message: string) => new HubApiError(400, API_CODES.validation, message)

async function requireVault(vaults: VaultStore, id: string, field: string): Promise<void> {
  if ((await vaults.readAccount(id)) === undefined)
    throw new HubApiError(404, API_CODES.vaultNotFound, `${field}: vault account ${id} was not found`)
}

function checkRaw(request: Extract<CreateTransaction, { operation: 'RAW' }>, chains: WorkspaceChains): void {
  const data = request.extraParameters.rawMessageData
  const algorithm = chains.algorithm(request.assetId)
  if (data.algorithm !== undefined && data.algorithm !== algorithm)
    throw invalid(
      `rawMessageData.algorithm ${data.algorithm} is not the algorithm of ${request.assetId} (${algorithm})`,
    )
  data.messages.forEach((message, index) => {
    try {
      checkContent(algorithm, message.content, index)
      if (message.derivationPath !== undefined) assertDerivationPath(message.derivationPath)
    } catch (error) {
      throw invalid(
        `rawMessageData.messages.${index}: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  })
}

export async function checkTransaction(
  request: CreateTransaction,
  chains: WorkspaceChains,
  vaults: VaultStore,
): Promise<void> {
  const asset = chains.chainAsset(request.assetId)
  await requireVault(vaults, request.source.id, 'source.id')
  if (request.operation === 'RAW') return checkRaw(request, chains)
  if (asset.chain !== 'evm')
    throw invalid(`TRANSFER of ${asset.id} is not supported by this hub yet: use RAW`)
  const destination = request.destination
  if (destination.type === 'VAULT_ACCOUNT') return requireVault(vaults, destination.id, 'destination.id')
  const check = chains.validateDestination(asset.id, destination.oneTimeAddress.address)
  if (!check.valid) throw invalid(`destination.oneTimeAddress.address: ${check.reason}`)
  try {
    chains.checkAmount(asset.id, request.amount)
  } catch (error) {
    throw invalid(error instanceof ChainError ? error.message : String(error))
  }
}
