import { formatNs } from '../engine/duration.js';
import type { PreloadPlan } from '../probes/preload-plan.js';
import type { AddSpec } from '../probes/spec-set.js';

/** A probe as `tlob list` and `tlob check-probes` show it: `MODULE:PATH [.. STOP]  budget …  name …`. */
export function probeLine(spec: AddSpec, gap = '  '): string {
  const stop = spec.stopPath ? ` .. ${spec.stopPath}` : '';
  const name = spec.name ? `${gap}name ${spec.name}` : '';
  return `${spec.module}:${spec.path}${stop}${gap}budget ${formatNs(spec.budgetNs)}${name}`;
}

/** The probes and the reactor a preload plan leaves, as `tlob list` and `tlob check-probes` print them. */
export function planLines(plan: PreloadPlan): string[] {
  const lines = ['probes:'];
  if (plan.file !== undefined) lines.push(`  (config ${plan.file})`);
  for (const spec of plan.probes.values()) lines.push(`  ${probeLine(spec)}`);
  if (plan.probes.size === 0) lines.push('  none (set TLOB_PROBES, or write tlob.config.json)');
  const reactor = plan.reactor;
  if (reactor === undefined) lines.push('reactor: log (the default)');
  else {
    const from = reactor.from === plan.file ? `config ${reactor.from}` : reactor.from;
    lines.push(`reactor: ${String(reactor.value)} (${from})`);
  }
  return lines;
}
