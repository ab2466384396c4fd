import type { RunningHandler } from '../handler/index.js'

/**
 * How an approver gets into the approvals console a development handler serves: registered with a key,
 * then enrolled with a single-use link (docs/console.md). Nothing when the handler serves no console.
 */
export function consoleSteps(countersign: string, handler: RunningHandler, config: string): string[] {
  if (handler.consoleUrl === undefined) return []
  const origin = new URL(handler.consoleUrl).origin
  return [
    `Approve them in the browser (${handler.consoleUrl}): register an approver, then enrol a passkey with the link this prints:`,
    `  ${countersign} keys generate --for approver --name alice && ${countersign} approvers add alice --public-key alice.pub --config ${config}`,
    `  ${countersign} approvers enrol-link alice --origin ${origin} --config ${config}`,
  ]
}
