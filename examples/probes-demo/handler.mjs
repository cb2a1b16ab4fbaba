// The request handler of examples/probes-demo/app.mjs.
export function handle(request) {
  const end = performance.now() + 10;
  while (performance.now() < end) {
    // busy
  }
  return `handled ${request}`;
}
