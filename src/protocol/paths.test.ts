import { describe, expect, it } from 'vitest'
import { callbackPath, normalizeBasePath } from './index.js'

describe('callback paths', () => {
  it('appends /v2 routes for JWT modes and bare routes for certificate modes', () => {
    expect(callbackPath('/fireblocks/callback_handler', 'jwt', 'tx')).toBe(
      '/fireblocks/callback_handler/v2/tx_sign_request',
    )
    expect(callbackPath('', 'jwt', 'config')).toBe('/v2/config_change_sign_request')
    expect(callbackPath('/cb', 'certificate', 'tx')).toBe('/cb/tx_sign_request')
    expect(callbackPath('/cb/', 'certificate', 'config')).toBe('/cb/config_change_sign_request')
  })

  it('normalises base paths', () => {
    expect(normalizeBasePath('/')).toBe('')
    expect(normalizeBasePath('prod/callback/')).toBe('/prod/callback')
  })
})
