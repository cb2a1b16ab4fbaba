/**
 * Zero-code preload: `node --import tlob/register app.mjs` or `node --require tlob/register app.js`
 * applies the probe specs of `TLOB_PROBES` and of the config file (`TLOB_CONFIG`, or
 * `./tlob.config.json`) before the application's first module loads. The build keeps the import
 * of `./index.js` external (tsup.config.ts), so the application and this preload share one copy
 * of tlob (and of tlob/otel). With `TLOB_OTEL=1` it also exports the windows to OpenTelemetry
 * through the global providers (docs/opentelemetry.md).
 */
import { tlob } from './index.js';
import { otelFromEnvironment } from './otel/index.js';

tlob.probes.fromEnvironment();
// The watchdog thread reports a budget broken while the event loop is blocked; TLOB_WATCHDOG=0 turns it off.
if (process.env.TLOB_WATCHDOG !== '0') tlob.watchdog(true);
otelFromEnvironment();
