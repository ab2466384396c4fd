import { readFile, rm } from 'node:fs/promises'
import { z } from 'zod'
import { errnoCode } from '../../core/index.js'
import { writePublicFile } from '../../keys/index.js'
import { DevNotRunning } from '../errors.js'

/**
 * `dev.json`: what a client needs to reach the running development system — the hub's URL, the API user
 * to act as and where its private key is (never the key itself), the callback handler's URL and the demo
 * vault. Written once everything is up, removed when it stops.
 */
const DevStateSchema = z.strictObject({
  version: z.literal(1),
  pid: z.int(),
  hubUrl: z.url(),
  handlerUrl: z.url(),
  apiUser: z.strictObject({ name: z.string(), apiKey: z.string(), privateKey: z.string() }),
  demoVault: z.strictObject({
    id: z.string(),
    name: z.string(),
    addresses: z.record(z.string(), z.string()),
  }),
})
export type DevState = z.infer<typeof DevStateSchema>

export async function writeDevState(path: string, state: DevState): Promise<void> {
  await writePublicFile(path, `${JSON.stringify(state, null, 2)}\n`, { force: true })
}

export async function removeDevState(path: string): Promise<void> {
  await rm(path, { force: true })
}

export async function readDevState(path: string): Promise<DevState> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT')
      throw new DevNotRunning(`no development system is running: ${path} does not exist`)
    throw error
  }
  const parsed = DevStateSchema.safeParse(parseJson(text))
  if (!parsed.success)
    throw new DevNotRunning(`${path} was not written by this version of countersign dev: start it again`)
  return parsed.data
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
