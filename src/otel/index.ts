// Public names of tlob/otel.

export { DEFAULT_BUCKETS } from './names.js';
export type { CheckedOptions, LoggerProviderLike, OtelOptions, SpanMode } from './options.js';
export { type OtelExport, otel, otelFromEnvironment } from './otel.js';
