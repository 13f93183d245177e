import type { Scenario } from './types.ts';

/** The names of the TypeScript handlers a scenario's steps call, each once, in order. */
export function callbackNames(s: Scenario): string[] {
  const names = new Set<string>();
  for (const p of s.probes) {
    for (const steps of [p.pre, p.post, p.entry, p.handler]) for (const st of steps ?? []) if (st.do === 'callback') names.add(st.name);
  }
  return [...names];
}
