// Keeps the architecture of CONVENTIONS.md true: areas depend only on areas before them in
// LAYERS, and other areas reach an area only through its index.ts.
const LAYERS = [
  'core', 'store', 'auth', 'onnx', 'datasets', 'tracking', 'registry',
  'serving', 'predlog', 'monitor', 'rollout', 'train', 'pipeline', 'mlflow', 'server', 'cli',
];

const layerRules = LAYERS.slice(0, -1).map((area, i) => ({
  name: `${area}-depends-only-on-earlier-areas`,
  severity: 'error',
  comment: `${area} may import only from ${LAYERS.slice(0, i).join(', ') || 'nothing else'}`,
  from: { path: `^src/${area}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'import-other-areas-through-their-index',
      severity: 'error',
      comment: 'another area is reached only through its index.ts',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/([^/]+)/(?!index\\.ts$)', pathNot: ['^src/$1/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
