import { describe, expect, it } from 'vitest';
import { tracePath } from '../../src/cli/collector.js';

describe('TLOB_TRACE file names', () => {
  it('the main thread writes the name given, %p the pid; a worker thread writes beside it, -t<id> before the extension', () => {
    expect(tracePath('trace.json', 42, 0)).toBe('trace.json');
    expect(tracePath('out/trace-%p.json', 42, 0)).toBe('out/trace-42.json');
    expect(tracePath('out/trace-%p.json', 42, 3)).toBe('out/trace-42-t3.json');
    expect(tracePath('out.d/trace', 42, 3)).toBe('out.d/trace-t3');
    expect(tracePath('trace-%p-%t.json', 42, 0)).toBe('trace-42-0.json');
    expect(tracePath('trace-%p-%t.json', 42, 5)).toBe('trace-42-5.json');
  });
});
