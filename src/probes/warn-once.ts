import { emitTlobWarning, type TlobWarningCode } from '../report/tlob-warning.js';

const warned = new Set<string>();

/** Emits a `TlobWarning` the first time `key` is seen in this process. */
export function warnOnce(key: string, message: string, code: TlobWarningCode = 'TLOB_PROBE'): void {
  if (warned.has(key)) return;
  warned.add(key);
  emitTlobWarning(message, code);
}
