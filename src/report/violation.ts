/**
 * A violation: an immutable record of one monitor instance breaking its model, either by an event
 * that is invalid in its state or by its clock invariant expiring. Monitors add their own detail
 * fields (tlob adds the budget and the running/waiting/sleeping split).
 */
export interface Violation {
  /** The monitor that found it (`'tlob'`). */
  readonly monitor: string;
  /** The instance's name (for tlob, the window or probe name). */
  readonly name: string;
  /** The instance's id, unique per process and monitor. */
  readonly id: number;
  /** The state the instance was in. */
  readonly state: string;
  /** The event that found the violation, or the monitor's label for its invariant's timer (tlob: `'budget_expired'`). */
  readonly event: string;
  /**
   * When it happened, as a Unix epoch timestamp in milliseconds: for an expired invariant its
   * deadline, however late it was found.
   */
  readonly at: number;
  /** How long after it happened it was found, in ns (0 when found on time). */
  readonly reportedLateNs: number;
  /** Monitor-specific detail. */
  readonly [detail: string]: unknown;
}
