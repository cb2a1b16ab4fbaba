/**
 * Zero-code preload: `node --import tlob/register app.mjs` or `node --require tlob/register app.js`
 * applies the probe specs of `TLOB_PROBES` and of the config file (`TLOB_CONFIG`, or
 * `./tlob.config.json`) before the application's first module loads. The build keeps the import
 * of `./index.js` external (tsup.config.ts), so the application and this preload share one copy
 * of tlob (and of tlob/otel).
 *
 * `TLOB_REACTOR` sets the reactor (`log`, `nop`, `abort`, `throw`). `TLOB_WATCHDOG=0` turns the
 * watchdog thread off (it reports a budget broken while the event loop is blocked);
 * `TLOB_WATCHDOG_TIMERS=0` keeps it from wrapping `setTimeout`. `TLOB_OTEL=1`
 * exports the windows to OpenTelemetry through the global providers (docs/opentelemetry.md).
 * `TLOB_TRACE=1` records the timeline; `TLOB_TRACE=<file>` also writes it there as a Chrome trace
 * at exit. `TLOB_OUTPUT=<dir>` (set by `tlob run`) writes the thread's run data there at exit.
 */
import * as workerThreads from 'node:worker_threads';
import { collectTo, writeTraceAtExit } from './cli/collector.js';
import { timeline, tlob } from './index.js';
import { otelFromEnvironment } from './otel/index.js';
import { environmentReactor, environmentSwitch } from './probes/preload-config.js';
import { TlobError } from './report/errors.js';
import { unsupportedNode } from './supported-node.js';

/** Where the main thread leaves its `TLOB_*` settings for the worker threads it starts. */
const SETTINGS_KEY = 'tlob.register.environment';

/**
 * The `TLOB_*` settings of this thread. A worker thread started with an `env` of its own (not
 * `SHARE_ENV`) has none of the process's in its `process.env`: it takes the main thread's, handed
 * down as environment data (`setEnvironmentData`, which each thread passes to the workers it
 * starts), with its own `TLOB_*` variables, if any, over them.
 */
function tlobSettings(): NodeJS.ProcessEnv {
  const own: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (key.startsWith('TLOB_')) own[key] = value;
  const inherited = workerThreads.isMainThread
    ? undefined
    : (workerThreads.getEnvironmentData(SETTINGS_KEY) as NodeJS.ProcessEnv | undefined);
  const settings = { ...inherited, ...own };
  workerThreads.setEnvironmentData(SETTINGS_KEY, settings);
  return settings;
}

const unsupported = unsupportedNode();
if (unsupported !== undefined)
  throw new TlobError('ERR_TLOB_UNSUPPORTED_NODE', `tlob/register: ${unsupported}`);

const env = tlobSettings();
tlob.probes.fromEnvironment(env);
const reactor = environmentReactor(env, 'tlob/register');
if (reactor !== undefined) tlob.reactor(reactor);
if (environmentSwitch(env, 'TLOB_WATCHDOG', true, 'tlob/register'))
  tlob.watchdog({
    enabled: true,
    timers: environmentSwitch(env, 'TLOB_WATCHDOG_TIMERS', true, 'tlob/register'),
  });
otelFromEnvironment(env);

const trace = env.TLOB_TRACE;
const output = env.TLOB_OUTPUT;
if (trace !== undefined && trace !== '' && trace !== '0') {
  timeline.start();
  if (trace !== '1') writeTraceAtExit(trace, timeline);
}
if (output !== undefined && output !== '') collectTo(output, timeline);
