import { createHash } from 'node:crypto';
import type { KernelState } from './state.ts';

// Canonical JSON: object keys sorted, no whitespace. Two states are equal exactly when their
// canonical texts are, which makes the digest a fingerprint of the whole folded state.

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function digestState(state: KernelState): string {
  return `sha256:${createHash('sha256').update(canonicalJson(state)).digest('hex')}`;
}
