// Public names only.

export { renderDot } from './engine/dot.js';
export { type Duration, formatNs, parseBudget, parseDuration } from './engine/duration.js';
export { type CompiledModel, compileModel, type ModelSpec } from './engine/model.js';
export type { TransitionEvent } from './engine/monitor.js';
export type { Reactor, ReactorFn } from './engine/reactors.js';
export type { Violation } from './engine/violation.js';
export { TlobError, type TlobErrorCode, TlobRangeError, TlobTypeError } from './errors.js';
export { type TlobWindow, tlob } from './monitors/tlob/facade.js';
export { type TlobEvent, type TlobState, tlobModelSpec } from './monitors/tlob/model.js';
export { TlobBudgetError, type WindowResult } from './monitors/tlob/result.js';
export type { WindowOptions } from './monitors/tlob/site.js';
export type { TlobViolation } from './monitors/tlob/tlob-monitor.js';
export type { OnStop } from './monitors/tlob/window.js';
export type { ChannelName } from './report/channels.js';
export type { ViolationRing } from './report/ring.js';
export type { Distribution, NameStats } from './report/stats.js';
