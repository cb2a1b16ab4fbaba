import { channels } from './channels.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** The `code` of a `TlobWarning`; each is listed in docs/channels.md. */
export type TlobWarningCode =
  | 'TLOB_HOOK_ERROR'
  | 'TLOB_PROBE'
  | 'TLOB_TOO_MANY_NAMES'
  | 'TLOB_HOOKS_BYPASSED'
  | 'TLOB_WARNINGS_SUPPRESSED'
  | 'TLOB_INCOMPATIBLE_COPY'
  | 'TLOB_WATCHDOG';

/** What `tlob:warning` carries: every warning tlob emits, whether or not the rate limit lets it print. */
export interface TlobWarningMessage {
  readonly code: TlobWarningCode;
  readonly message: string;
  /** For `TLOB_HOOK_ERROR`: what threw (`'tlob reactor'`, `'onStop callback'`, …). */
  readonly where?: string;
  /** For `TLOB_HOOK_ERROR`: what was thrown. */
  readonly error?: unknown;
}

/** At most 10 warnings a second, as the `'log'` reactor's lines; then one warning with the count. */
const limit = new RateLimitedLog(
  (line) => {
    try {
      publishWarning({ code: 'TLOB_WARNINGS_SUPPRESSED', message: line });
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
 * Emits a warning: every warning tlob emits goes through here. It is published on `tlob:warning`,
 * and emitted as a process warning of type `TlobWarning` unless the rate limit suppresses it (so
 * that a reactor or handler that throws on every call cannot flood stderr).
 */
export function emitTlobWarning(
  message: string,
  code: TlobWarningCode,
  detail?: string,
  cause?: { readonly where: string; readonly error: unknown },
): void {
  publishWarning(cause === undefined ? { code, message } : { code, message, ...cause });
  if (!limit.admit()) return;
  process.emitWarning(message, { type: 'TlobWarning', code, detail });
}

function publishWarning(message: TlobWarningMessage): void {
  if (channels.warning.hasSubscribers) channels.warning.publish(message);
}
