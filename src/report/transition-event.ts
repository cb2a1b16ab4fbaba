/**
 * A transition event of any model: one transition of one instance, as a monitor publishes it on its
 * transition channel. `M` is the monitor's name, `S` and `E` its model's states and events (tlob's
 * is `TransitionEvent`).
 */
export interface ModelTransitionEvent<
  S extends string = string,
  E extends string = string,
  M extends string = string,
> {
  /** The monitor (its model's name). */
  monitor: M;
  id: number;
  name: string;
  /** The state before the transition. */
  state: S;
  event: E;
  /** The state after the transition. */
  next: S;
  /** Whether `next` is a final state. */
  final: boolean;
  /** `nowNs()` of the transition. */
  atNs: number;
}
