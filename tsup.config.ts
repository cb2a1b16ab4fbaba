import { defineConfig } from 'tsup';

/**
 * `src/register.ts` imports `./index.js`; in the build that import stays external and points at
 * the same format's index (`./index.js` or `./index.cjs`), so `--import`/`--require tlob/register`
 * and the application's own `import 'tlob'` share one copy of tlob instead of bundling a second.
 */
const registerSharesIndex = {
  name: 'register-shares-index',
  setup(build: { initialOptions: { format?: string }; onResolve: Function }) {
    const cjs = build.initialOptions.format === 'cjs';
    build.onResolve({ filter: /^\.\/index\.js$/ }, (args: { importer: string }) =>
      args.importer.endsWith('register.ts')
        ? { path: cjs ? './index.cjs' : './index.js', external: true }
        : undefined,
    );
    // tlob/otel uses the application's tlob too, and the preload the application's tlob/otel.
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args: { importer: string }) =>
      /[/\\]src[/\\]otel[/\\]/.test(args.importer)
        ? { path: cjs ? './index.cjs' : './index.js', external: true }
        : undefined,
    );
    build.onResolve({ filter: /^\.\/otel\/index\.js$/ }, (args: { importer: string }) =>
      args.importer.endsWith('register.ts')
        ? { path: cjs ? './otel.cjs' : './otel.js', external: true }
        : undefined,
    );
  },
};

/**
 * The `tlob/bench` entries (the harness, its command and its adapters) import the core as
 * `../index.js`; in the build that import stays external and points at the same format's index, so
 * that a bench measures with the application's one copy of tlob.
 */
const benchSharesIndex = {
  name: 'bench-shares-index',
  setup(build: { initialOptions: { format?: string }; onResolve: Function }) {
    const cjs = build.initialOptions.format === 'cjs';
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args: { importer: string }) =>
      args.importer.includes('/src/bench/')
        ? { path: cjs ? './index.cjs' : './index.js', external: true }
        : undefined,
    );
  },
};

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    register: 'src/register.ts',
    otel: 'src/otel/index.ts',
    cli: 'src/cli/main.ts',
    bench: 'src/bench/index.ts',
    'bench-cli': 'src/bench/bin.ts',
    tinybench: 'src/bench/tinybench.ts',
    vitest: 'src/bench/vitest-provider.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  platform: 'node',
  splitting: false,
  shims: true, // import.meta.url in the CommonJS build (tlob/otel's createRequire)
  esbuildPlugins: [registerSharesIndex, benchSharesIndex],
});
