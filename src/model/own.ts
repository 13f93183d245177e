// The fold's records (probes, stats, kretprobe pools, modules) are keyed by names users choose,
// and a user may well name a probe "constructor" or "__proto__". Reading `rec[name]` would then
// find Object.prototype's members; reading through own() finds only what the fold put there.
// (Writes are safe as the fold does them: a computed key in an object literal, `{ [name]: v }`,
// always defines an own property, even "__proto__".)

/** `rec[key]` if `key` is an own property of `rec`, else undefined. */
export function own<T>(rec: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}
