/** Payload of the `tlob:event` channel: one transition of one instance. */
export interface TransitionEvent {
  monitor: string;
  id: number;
  name: string;
  state: string;
  event: string;
  next: string;
  final: boolean;
  /** `nowNs()` of the transition. */
  atNs: number;
}
