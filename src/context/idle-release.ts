/**
 * Defers turning a process-wide hook off until the event loop's check phase, so that a stream of
 * calls that each open and close a window within one loop turn (sequential awaits, a loop of
 * async calls) does not pay for disabling and re-enabling the hook every time (~0.3–1.5 µs).
 */
export function releaseWhenIdle(stillNeeded: () => boolean, turnOff: () => void): () => void {
  let scheduled = false;
  const check = () => {
    scheduled = false;
    if (!stillNeeded()) turnOff();
  };
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(check).unref();
  };
}
