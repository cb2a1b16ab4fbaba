import { beforeAll, describe, expect, it } from 'vitest';
import { installFixture, runNode } from './preload-apps.js';

describe('observing a returned promise does not change what an unhandled rejection does', () => {
  let dir = '';
  beforeAll(() => {
    dir = installFixture('rejections');
  });

  it.each(['bare', 'attach', 'tlob'])('%s: the process still dies of the unhandled rejection', (mode) => {
    const run = runNode(dir, ['unhandled.mjs', mode]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Error: nobody handles this');
    expect(run.stdout).not.toContain('still alive');
  });

  it('with a listener: same events as without the probe, and ret still sees the rejection', () => {
    const bare = runNode(dir, ['listener.mjs', 'bare']);
    const probed = runNode(dir, ['listener.mjs', 'attach']);
    expect(bare.stdout).toBe('unhandledRejection seen by the listener true\ndone\n');
    expect(probed.stdout).toBe(
      'unhandledRejection seen by the listener true\nret rejected seen by the listener\ndone\n',
    );
    // the documented trace: reading the value afterwards counts as handling it late
    expect(probed.stderr).toContain('PromiseRejectionHandledWarning');
  });

  it('an ES module loaded before its probe: earlier importers keep the original, later ones get the wrapper, one warning', () => {
    const run = runNode(dir, ['late.mjs']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('static import wrapped: false');
    expect(run.stdout).toContain('later import wrapped: true');
    expect(run.stdout.match(/was loaded before its probe was added/g)).toHaveLength(1);
  });
});
