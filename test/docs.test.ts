import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../src/model/events.ts';

describe('docs/events.md', () => {
  it('documents every event type of the catalog, in catalog order, and no other', () => {
    const text = readFileSync('docs/events.md', 'utf8');
    const headings = [...text.matchAll(/^### `([a-z_.]+)`/gm)].map((m) => m[1]);
    expect(headings).toEqual(EVENT_TYPES);
  });
});
