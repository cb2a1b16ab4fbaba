// An application that knows nothing of tlob. Run it unchanged under the preload:
//   TLOB_PROBES='p ./examples/probes-demo/handler.mjs:handle threshold=5ms' \
//     node --import tlob/register examples/probes-demo/app.mjs
// (or name the probes in ./tlob.config.json: { "probes": ["p …"], "reactor": "log" }).
import { handle } from './handler.mjs';

console.log(handle('GET /'));
