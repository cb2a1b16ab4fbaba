// Public names only.

export { renderDot } from './engine/dot.js';
export { type Duration, formatNs, parseBudget, parseDuration } from './engine/duration.js';
export type { ModelSpec } from './engine/model.js';
export type { Reactor, ReactorFn } from './engine/reactors.js';
export { type TlobEvent, type TlobState, tlobModelSpec } from './monitors/tlob/model.js';
export { TlobBudgetError, type WindowResult, type WindowStart } from './monitors/tlob/result.js';
export type { WindowOptions } from './monitors/tlob/site.js';
export type { TlobViolation, TransitionEvent } from './monitors/tlob/tlob-monitor.js';
export type { TlobReactor, TlobReactorFn } from './monitors/tlob/tlob-reactor.js';
export type { OnStop } from './monitors/tlob/window.js';
export type { TlobWindow } from './monitors/tlob/window-api.js';
// Probes: attach/detach, tlob.attach, probe specs, decorators.
export type { AttachHandlers, AttachTarget, Probe } from './probes/attach.js';
export type { BudgetDecorator, BudgetOptions } from './probes/decorators.js';
export type { CallEnd, EndedProbeCall, ProbeCall } from './probes/observed-call.js';
export type { Environment } from './probes/preload-config.js';
export { type ProbeSpec, parseProbeSpecs } from './probes/spec-parser.js';
export type { TlobProbeHandle } from './probes/tlob-attach.js';
export type { TlobAttachOptions } from './probes/tlob-probe.js';
// The values that hold the monitoring state: one set per process, shared by compatible copies.
export { attach, budget, timeline, tlob } from './process-api.js';
export type { ChannelName } from './report/channels.js';
export { TlobError, type TlobErrorCode, TlobRangeError, TlobTypeError } from './report/errors.js';
export type { Distribution, NameStats } from './report/stats.js';
export type { TimelineColumns, TimelineData, TimelineOptions } from './report/timeline.js';
export type { TlobWarningCode, TlobWarningMessage } from './report/tlob-warning.js';
export { type ChromeTrace, type TraceEvent, toChromeTrace } from './report/trace-export.js';
export type { Violation } from './report/violation.js';
export type { ChannelListener, ChannelMessages, DisableOptions, ViolationRing } from './tlob.js';
export type { WatchdogOptions, WatchdogStatus } from './watchdog/watchdog.js';
