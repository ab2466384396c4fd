/**
 * The console's browser tests: Debian's Chromium driven by playwright-core, each person in a browser profile
 * of their own with a virtual WebAuthn authenticator (Chrome DevTools Protocol) that verifies its user.
 * Under CI=true the tests run, and fail, without Chromium; elsewhere they are skipped with a warning.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

/** Where the tests put the screenshots docs/console.md shows. */
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'docs', 'console')

/** Whether the browser tests run here (for `describe.runIf`); says why not once when they are skipped. */
export function browserTestsRun(what: string): boolean {
  const available = existsSync(CHROMIUM)
  if (!available && process.env.CI !== 'true')
    console.warn(`skipping ${what}'s browser tests: ${CHROMIUM} is missing (apt-get install chromium)`)
  return available || process.env.CI === 'true'
}

/** Headless Chromium (as root in CI, hence no sandbox), with the screenshots' folder made. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}

/** A browser profile of its own, with a passkey authenticator that verifies its user. */
export async function passkeyProfile(
  browser: Browser,
  options: { readonly width: number; readonly timeoutMs: number },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: options.width, height: 900 } })
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  })
  page.setDefaultTimeout(options.timeoutMs)
  return { context, page }
}
