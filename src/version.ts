/** This copy's version: the `version` of package.json (a test keeps the two equal). */
export const TLOB_VERSION = '0.1.0';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/;

/**
 * Whether a copy of version `own` may use the public values registered by a copy of version
 * `registered` (the rule of OpenTelemetry's API for its globals): the same version; otherwise
 * neither a pre-release, the same major, and a registered version that offers at least what `own`
 * does: the same minor and no lower patch for 0.x (where a minor may break), no lower minor from
 * 1.0 on.
 */
export function isCompatible(own: string, registered: string): boolean {
  if (own === registered) return true;
  const a = SEMVER.exec(own);
  const b = SEMVER.exec(registered);
  if (a === null || b === null || a[4] !== undefined || b[4] !== undefined) return false;
  const [major, minor, patch] = [Number(a[1]), Number(a[2]), Number(a[3])];
  const [rMajor, rMinor, rPatch] = [Number(b[1]), Number(b[2]), Number(b[3])];
  if (major !== rMajor) return false;
  if (major === 0) return minor === rMinor && patch <= rPatch;
  return minor <= rMinor;
}
