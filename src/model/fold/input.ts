import type { JsonObject } from '../events.ts';
import { fail } from './errors.ts';

// The fold's view of a shell session's input events: only the probe's name matters to the state
// (its registry entry and counters); the rest of the definition is the setup's business.

export function probeName(probe: JsonObject): string {
  const name = probe.name;
  return typeof name === 'string' && name !== '' ? name : fail('input.probe has no probe name');
}
