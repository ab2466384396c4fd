/**
 * The module boundaries of ../shared/DESIGN.md, checked on the resolved import graph (static, dynamic,
 * side-effect and type-only imports alike): which module may import which, only through its index.ts,
 * which third-party packages each module may use, and no cycles. Run by `npm run lint`.
 */
/** module → the modules it may import (DESIGN.md, "Modules and the direction of dependencies"). */
const MAY_IMPORT = {
  core: [],
  protocol: ['core'],
  keys: ['core', 'protocol'],
  mpc: ['core'],
  link: ['core', 'protocol', 'mpc'],
  policy: ['core', 'protocol'],
  storage: ['core', 'protocol'],
  seal: ['core'],
  service: ['core'],
  'callback-client': ['core', 'protocol', 'keys'],
  testing: ['core', 'protocol', 'keys', 'callback-client'],
  handler: ['core', 'protocol', 'keys', 'policy', 'storage', 'service'],
  hub: ['core', 'protocol', 'keys', 'policy', 'storage', 'seal', 'service', 'mpc', 'link'],
  cosigner: ['core', 'protocol', 'keys', 'storage', 'seal', 'service', 'mpc', 'link', 'callback-client'],
  cli: [
    'core',
    'protocol',
    'keys',
    'mpc',
    'link',
    'policy',
    'storage',
    'seal',
    'service',
    'callback-client',
    'testing',
    'handler',
    'hub',
    'cosigner',
  ],
}

/** package → the modules that may import it; every other module (and src/index.ts) may not. */
const PACKAGE_OWNERS = {
  'fastify|@fastify/[^/]+': ['service'],
  // The consoles' shell: passkey ceremonies and the template engine (the browser half is served as a file).
  '@simplewebauthn/[^/]+|eta': ['service'],
  // The WebSocket of the co-signer link: the hub's end through src/service, the party's end in src/link.
  ws: ['service', 'link'],
  'pg|better-sqlite3|kysely': ['storage'],
  viem: ['testing'],
  'micro-eth-signer': ['testing', 'hub'],
  '@scure/btc-signer': ['hub'],
  '@0xcarbon/dkls23-wasm': ['mpc'],
  pkcs11js: ['seal'],
}

const modules = Object.keys(MAY_IMPORT)
const alternatives = (names) => names.map((name) => name.replace(/[-/]/g, '\\$&')).join('|')

const directionRules = modules.flatMap((module) => {
  const allowed = [module, ...MAY_IMPORT[module]]
  return [
    {
      name: `${module}-imports-only-what-design-allows`,
      comment: `src/${module} may import ${MAY_IMPORT[module].join(', ') || 'nothing of the project'} (DESIGN.md)`,
      severity: 'error',
      from: { path: `^src/${module}/`, pathNot: '\\.test\\.ts$' },
      to: { path: '^src/', pathNot: [`^src/(${alternatives(allowed)})/`] },
    },
    {
      name: `${module}-tests-import-only-what-design-allows`,
      comment: `tests beside src/${module} may also use the testing kit (fixtures, builders, forgeries)`,
      severity: 'error',
      from: { path: `^src/${module}/.+\\.test\\.ts$` },
      to: { path: '^src/', pathNot: [`^src/(${alternatives([...allowed, 'testing'])})/`] },
    },
  ]
})

const packageRules = Object.entries(PACKAGE_OWNERS).map(([pattern, owners]) => ({
  name: `only-${owners.join('-')}-imports-${pattern.split('|')[0].replace(/[^a-z0-9]+/gi, '')}`,
  comment: `${pattern.replace(/\|/g, ', ')} may be imported only by src/${owners.join(', src/')}`,
  severity: 'error',
  from: { path: '^src/', pathNot: [`^src/(${alternatives(owners)})/`, '\\.test\\.ts$'] },
  to: { dependencyTypesNot: ['local'], path: `(^|/)node_modules/(${pattern})/` },
}))

module.exports = {
  forbidden: [
    ...directionRules,
    {
      name: 'other-modules-through-their-index',
      comment: 'code outside a module imports it only through its index.ts',
      severity: 'error',
      from: { path: '^(src/([^/]+)/|test/|bench/)' },
      to: { path: '^src/[^/]+/.+', pathNot: ['^src/$2/', '^src/[^/]+/index\\.ts$'] },
    },
    ...packageRules,
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable-imports',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
}
