/**
 * Calls `fn` with `thisArg` and `args`, or, with `newTarget`, constructs it: how windows and probes
 * run the monitored function. A plain function, so that no closure is made per call.
 */
export function callOrConstruct(
  fn: Function,
  thisArg: unknown,
  args: ArrayLike<unknown>,
  newTarget: Function | undefined,
): unknown {
  return newTarget === undefined ? Reflect.apply(fn, thisArg, args) : Reflect.construct(fn, args, newTarget);
}
