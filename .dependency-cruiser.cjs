// The import rules of docs/ARCHITECTURE.md, checked by `npm run lint` (dependency-cruiser).
//
// LAYERS lists the folders of src/ from the top down. A folder imports only itself and folders
// above it: the arrows of the architecture point down the list and never back up. Folders on one
// line of the architecture's list (energy, market, stack, meter) are taken left to
// right, and so are the subfolders of contracts/ and meter/. Files directly in contracts/ or
// meter/, and meter/shared/, are shared by those subfolders and sit just above them.
//
// Known violations (from before the layout was finished) are listed in
// .dependency-cruiser-known-violations.json and do not fail the check; a new one does.
// Regenerate that list only in a reviewed commit: npm run lint:baseline
'use strict';

/** [name, path regex]: top of the architecture first. */
const LAYERS = [
  ['core', '^src/core/'],
  ['config', '^src/config/'],
  ['chain', '^src/chain/'],
  ['client', '^src/client/'],
  ['contracts', '^src/contracts/[^/]+$'],
  ['contracts/authoring', '^src/contracts/authoring/'],
  ['contracts/runtime', '^src/contracts/runtime/'],
  ['store', '^src/store/'],
  ['ledger', '^src/ledger/'],
  ['processor', '^src/processor/'],
  ['node', '^src/node/'],
  ['api', '^src/api/'],
  ['energy', '^src/energy/'],
  ['market', '^src/market/'],
  ['stack', '^src/stack/'],
  ['meter', '^src/meter/[^/]+$'],
  ['meter/shared', '^src/meter/shared/'],
  ['meter/p1', '^src/meter/p1/'],
  ['meter/gateway', '^src/meter/gateway/'],
  ['meter/sim', '^src/meter/sim/'],
  ['meter/reconcile', '^src/meter/reconcile/'],
  ['app', '^src/app/'],
  ['city', '^src/city/'],
  ['demo', '^src/demo/'],
  ['cli', '^src/cli/'],
  ['sim', '^src/sim/'],
];

const layerRules = LAYERS.slice(0, -1).map(([name, path], i) => {
  const above = LAYERS.slice(0, i).map(([n]) => n);
  const below = LAYERS.slice(i + 1);
  return {
    name:
      i === 0
        ? 'core-imports-nothing-of-ours'
        : `${name.replace('/', '-')}-imports-only-layers-above`,
    comment:
      above.length === 0
        ? `src/${name}/ is the top of the architecture and imports nothing else of ours.`
        : `src/${name}/ may import only its own files and ${above.join(', ')} (the folders above ` +
          'it in docs/ARCHITECTURE.md). Move the shared code up, or pass it in as a parameter.',
    severity: 'error',
    from: { path },
    to: { path: below.map(([, p]) => p) },
  };
});

const allLayers = LAYERS.map(([, p]) => p);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'processor-and-node-are-independent',
      comment:
        'The processor and the mirror node never import each other: what both need lives in ' +
        'src/ledger/, written once.',
      severity: 'error',
      from: { path: '^src/(processor|node)/' },
      to: { path: '^src/(processor|node)/', pathNot: '^src/$1/' },
    },
    {
      name: 'folder-not-in-the-architecture',
      comment:
        'Every module in src/ belongs to a folder of the architecture (LAYERS in ' +
        '.dependency-cruiser.cjs, docs/ARCHITECTURE.md). Add a new folder to both, in its place.',
      severity: 'error',
      from: { path: '^src/', pathNot: allLayers },
      to: {},
    },
    {
      name: 'imports-a-folder-not-in-the-architecture',
      comment:
        'Every module in src/ belongs to a folder of the architecture (LAYERS in ' +
        '.dependency-cruiser.cjs, docs/ARCHITECTURE.md). Add a new folder to both, in its place.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: allLayers },
    },
    {
      name: 'src-imports-no-tests-or-tools',
      comment: 'Code in src/ never imports test/, bench/ or scripts/: they import src, not back.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'src-imports-no-web',
      comment: 'The server never imports the dashboard: web/ is bundled for the browser.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'web-reads-only-the-wire-views',
      comment:
        'The dashboard (web/) talks only to the public API. Of src/ it may import the JSON ' +
        'shapes of the API (src/chain/views.ts, src/energy/views.ts), and only as types: ' +
        'nothing of the server reaches the bundle (docs/decisions/0013-dashboard.md).',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/(chain|energy)/views\\.ts$|^src/core/errors\\.ts$' },
    },
    {
      name: 'web-imports-src-as-types-only',
      comment:
        'web/ may import the wire views of src/ as types only (import type), so that no server ' +
        'code is bundled for the browser.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/', dependencyTypesNot: ['type-only', 'type-import'] },
    },
    {
      name: 'web-page-imports-no-node-builtins',
      comment:
        'The page runs in a browser: web/src/ imports no Node.js built-in module (node:fs, ' +
        'node:crypto, ...). The build config (web/vite.config.mjs) runs in Node and may.',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      comment:
        'Modules in src/ must not import each other in a circle (type-only imports count too). ' +
        'Move what both need into a module that both import.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are arrows too: they are compiled away, but they still couple the folders.
    tsPreCompilationDeps: true,
    // TypeScript's NodeNext sources import './x.js' for './x.ts': resolve as tsc does.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
