// Medians, number formatting and markdown tables for the benchmark reports.

/** The median of a list of numbers (the mean of the two middle ones for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The median of a list of numbers with its 95% confidence interval (the order statistics
 * n/2 ± 1.96·√n/2, which hold whatever the distribution), and the quartiles:
 * `{ median, low, high, p25, p75 }`.
 */
export function medianInterval(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const at = (i) => sorted[Math.max(0, Math.min(n - 1, Math.round(i)))];
  const half = 0.98 * Math.sqrt(n);
  return {
    median: median(sorted),
    low: at(n / 2 - half - 1),
    high: at(n / 2 + half),
    p25: at(0.25 * n),
    p75: at(0.75 * n),
  };
}

/** `12.3`, `456`, `1,234`: three significant figures below 1000, grouped thousands above. */
export function fmt(value) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A ratio as `2.31×`. */
export function times(ratio) {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—';
}

/** A markdown table: `header` is a list of column titles, `rows` a list of lists of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** One line per target: `- PASS tlob.run enabled ≤ 3× two-clock wrapper: 2.10× (limit 3×)`. */
export function verdict(met, text) {
  return `- **${met ? 'PASS' : 'MISS'}** ${text}`;
}

/** The spread of a list of samples around their median: `±4%` is half of (max − min) ÷ median. */
export function spread(values) {
  const m = median(values);
  return `±${Math.round(((Math.max(...values) - Math.min(...values)) / 2 / m) * 100)}%`;
}
