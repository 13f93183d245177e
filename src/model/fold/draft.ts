import type { KernelState } from '../state.ts';

/** The new state under construction: a fresh object that evolve fills in and then returns. */
export type Draft = { -readonly [K in keyof KernelState]: KernelState[K] };
