/**
 * The `uri` claim is the request's path plus query string, `/v1` prefix included (protocol.md §5.2). Given an
 * absolute URL this returns that part; given a request target (`/v1/...`) it returns it unchanged.
 */
export function requestUri(url: string): string {
  if (url.startsWith('/')) return url
  const parsed = new URL(url)
  return `${parsed.pathname}${parsed.search}`
}

const UNRESERVED = /[A-Za-z0-9\-._~]/
/** Characters that may appear raw in a path or query (RFC 3986 pchar, `/` and `?`), besides `%`. */
const ALLOWED_RAW = /[A-Za-z0-9\-._~!$&'()*+,;=:@/?]/

/**
 * Percent-encoding normal form: escapes of unreserved characters decoded, other escapes upper-cased,
 * characters that must be escaped (such as `[` and `]`, which the legacy Python SDK escapes before signing)
 * escaped. Two targets equal under this form reach the same resource.
 */
function normalizeEncoding(uri: string): string {
  let result = ''
  for (let i = 0; i < uri.length; i++) {
    const char = uri[i]!
    const escape = uri.slice(i, i + 3)
    if (char === '%' && /^%[0-9A-Fa-f]{2}$/.test(escape)) {
      const decoded = String.fromCharCode(Number.parseInt(escape.slice(1), 16))
      result += UNRESERVED.test(decoded) ? decoded : escape.toUpperCase()
      i += 2
    } else if (ALLOWED_RAW.test(char)) result += char
    else result += encodeURIComponent(char).toUpperCase()
  }
  return result
}

/** Whether a signed `uri` names the same target as the request, tolerating percent-encoding differences. */
export function sameRequestUri(signed: string, actual: string): boolean {
  return signed === actual || normalizeEncoding(signed) === normalizeEncoding(actual)
}
