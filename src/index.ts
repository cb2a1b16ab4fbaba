export { formatNs, parseBudget, parseDuration } from './engine/duration.js';
