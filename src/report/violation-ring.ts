import { ViolationRing } from './ring.js';

/** The process's violation ring: every monitor's violations, bounded, drop-new. */
export const violationRing = new ViolationRing(1024);
