import { RateLimitedLog } from './rate-limited-log.js';

/** The `code` of a `TlobWarning`. */
export type TlobWarningCode =
  | 'TLOB_HOOK_ERROR'
  | 'TLOB_PROBE'
  | 'TLOB_TOO_MANY_NAMES'
  | 'TLOB_HOOKS_BYPASSED'
  | 'TLOB_WARNINGS_SUPPRESSED'
  | 'TLOB_INCOMPATIBLE_COPY';

/** At most 10 warnings a second, as the `'log'` reactor's lines; then one warning with the count. */
const limit = new RateLimitedLog(
  (line) => {
    try {
      process.emitWarning(line, { type: 'TlobWarning', code: 'TLOB_WARNINGS_SUPPRESSED' });
    } catch {
      // a broken process.emitWarning override; this runs from a timer, where a throw would crash
    }
  },
  10,
  1000,
  (count) => `tlob: ${count} warning(s) suppressed by rate limit in the last second`,
);

/**
 * Emits a process warning of type `TlobWarning`, rate-limited: every warning tlob emits goes
 * through here, so that a reactor or handler that throws on every call cannot flood stderr.
 */
export function emitTlobWarning(message: string, code: TlobWarningCode, detail?: string): void {
  if (!limit.admit()) return;
  process.emitWarning(message, { type: 'TlobWarning', code, detail });
}
