import { callbackPath, type AuthMode, type CallbackRoute } from '../protocol/index.js'
import { CallbackInputInvalid } from './errors.js'

/**
 * The URL a co-signer posts to: the BASE URL configured for the handler plus the fixed route suffix
 * (`/v2/tx_sign_request` in JWT mode, `/tx_sign_request` in certificate mode).
 */
export function handlerUrl(baseUrl: string, mode: AuthMode, route: CallbackRoute): URL {
  let base: URL
  try {
    base = new URL(baseUrl)
  } catch {
    throw new CallbackInputInvalid(
      `"${baseUrl}" is not a URL; give the handler base URL, e.g. http://127.0.0.1:8080`,
    )
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new CallbackInputInvalid(`the handler URL must be http:// or https://, not ${base.protocol}`)
  }
  if (mode === 'certificate' && base.protocol !== 'https:') {
    throw new CallbackInputInvalid('certificate mode sends plain JSON and needs an https:// handler URL')
  }
  if (base.search !== '' || base.hash !== '') {
    throw new CallbackInputInvalid('the handler base URL must not carry a query string or fragment')
  }
  return new URL(callbackPath(base.pathname, mode, route), base.origin)
}
