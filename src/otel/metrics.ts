import type {
  Attributes,
  Counter,
  Histogram,
  MeterProvider,
  ObservableResult,
  ObservableUpDownCounter,
} from '@opentelemetry/api';
import type { Violation, WindowResult, WindowStart } from '../index.js';
import { MAX_NAMES, OTHER_NAME } from '../report/stats.js';
import { apiGlobals, type OtelApi } from './api.js';
import {
  ATTR_NAME,
  ATTR_STATE,
  DURATION_STATES,
  SCOPE,
  WINDOW_ACTIVE,
  WINDOW_DURATION,
  WINDOW_VIOLATIONS,
} from './names.js';

/** The attribute sets of one window name, built once: no allocation per recorded window. */
interface NameAttributes {
  readonly name: Attributes;
  /** Windows of this name opened and not yet stopped. */
  active: number;
  /** One per `DURATION_STATES` entry. */
  readonly durations: readonly Attributes[];
  /** By the state the window was in at its violation. */
  readonly violations: Map<string, Attributes>;
}

function attributesOf(name: string): NameAttributes {
  return {
    name: { [ATTR_NAME]: name },
    active: 0,
    durations: DURATION_STATES.map((state) => ({ [ATTR_NAME]: name, [ATTR_STATE]: state })),
    violations: new Map(),
  };
}

/**
 * The metrics of tlob's windows: the duration histogram (elapsed and each state, in seconds), the
 * violation counter and the windows in flight. Without an explicit provider it follows the global
 * one, checked as each window opens, stops or violates, so a preload that starts before the
 * application registers its SDK still reports to it (and a window in flight is observed there
 * before any window has stopped). Windows in flight are counted here and observed at collection
 * (an observable instrument whose callback moves with the provider), so opening and stopping a
 * window costs a counter update, not two SDK records.
 */
export class WindowMetrics {
  private provider: MeterProvider | undefined = undefined;
  private duration!: Histogram;
  private violations!: Counter;
  /** `tlob.window.active` on the provider in force, `undefined` once disabled. */
  private active: ObservableUpDownCounter | undefined = undefined;
  private readonly byName = new Map<string, NameAttributes>();
  /** The id of the first window seen opening: older windows were never counted as active. */
  private firstId = -1;
  /** The API's global MeterProvider slot as last seen; the instruments move when it changes. */
  private seenGlobal: unknown = apiGlobals()?.metrics;

  constructor(
    private readonly api: OtelApi,
    private readonly explicitProvider: MeterProvider | undefined,
    private readonly buckets: readonly number[],
  ) {
    this.instruments();
  }

  /**
   * Follows the global provider: one property read per call while it stays the same, so a window's
   * start and stop pay no more than that (`metrics.getMeterProvider()` is called only on a change).
   */
  private followGlobal(): void {
    if (this.explicitProvider !== undefined) return;
    const registered = apiGlobals()?.metrics;
    if (registered === this.seenGlobal) return;
    this.seenGlobal = registered;
    this.instruments();
  }

  /** Creates the instruments on the provider in force, if it changed. */
  private instruments(): void {
    const provider = this.explicitProvider ?? this.api.metrics.getMeterProvider();
    if (provider === this.provider) return;
    this.provider = provider;
    const meter = provider.getMeter(SCOPE);
    const { ValueType } = this.api;
    this.duration = meter.createHistogram(WINDOW_DURATION, {
      description: 'Time of finished tlob windows: elapsed, and running, waiting and sleeping.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [...this.buckets] },
    });
    this.violations = meter.createCounter(WINDOW_VIOLATIONS, {
      description: 'Budget violations of tlob windows, by the state the window was in.',
      unit: '{violation}',
      valueType: ValueType.INT,
    });
    // the old provider (one `metrics.disable()` dropped) must not go on observing these windows
    this.active?.removeCallback(this.observeActive);
    this.active = meter.createObservableUpDownCounter(WINDOW_ACTIVE, {
      description: 'tlob windows opened and not yet stopped.',
      unit: '{window}',
      valueType: ValueType.INT,
    });
    this.active.addCallback(this.observeActive);
  }

  /** Stops observing the windows in flight: a disabled or replaced export reports none at collection. */
  disable(): void {
    this.active?.removeCallback(this.observeActive);
    this.active = undefined;
  }

  private readonly observeActive = (result: ObservableResult): void => {
    for (const attributes of this.byName.values()) result.observe(attributes.active, attributes.name);
  };

  /**
   * The attribute sets of a window name. The metrics carry the names `tlob.stats()` does: the
   * first `MAX_NAMES`, and the windows of further names under `OTHER_NAME`. Each name is a series
   * of every instrument, which a cumulative reader keeps for good: with a name per URL, memory grew
   * by ~3.5 kB per name.
   */
  private attributes(name: string): NameAttributes {
    let attributes = this.byName.get(name);
    if (attributes === undefined) {
      if (this.byName.size >= MAX_NAMES && name !== OTHER_NAME) return this.attributes(OTHER_NAME);
      attributes = attributesOf(name);
      this.byName.set(name, attributes);
    }
    return attributes;
  }

  start(start: WindowStart): void {
    this.followGlobal();
    if (this.firstId < 0) this.firstId = start.id;
    this.attributes(start.name).active++;
  }

  stop(result: WindowResult): void {
    this.followGlobal();
    const attributes = this.attributes(result.name);
    if (this.firstId >= 0 && result.id >= this.firstId && attributes.active > 0) attributes.active--;
    const [elapsed, running, waiting, sleeping] = attributes.durations as [
      Attributes,
      Attributes,
      Attributes,
      Attributes,
    ];
    this.duration.record(result.elapsedNs / 1e9, elapsed);
    this.duration.record(result.runningNs / 1e9, running);
    this.duration.record(result.waitingNs / 1e9, waiting);
    this.duration.record(result.sleepingNs / 1e9, sleeping);
  }

  violation(violation: Violation): void {
    this.followGlobal();
    const named = this.attributes(violation.name);
    const byState = named.violations;
    let attributes = byState.get(violation.state);
    if (attributes === undefined) {
      attributes = { [ATTR_NAME]: named.name[ATTR_NAME] as string, [ATTR_STATE]: violation.state };
      byState.set(violation.state, attributes);
    }
    this.violations.add(1, attributes);
  }
}
