import type { Frame } from '../state.ts';
import { fail } from './errors.ts';

// ── frames ──────────────────────────────────────────────────────────────────────────────────

export function stepFrame(f: Frame | null): Frame {
  if (f === null) return fail('no function is executing there');
  // A hooked frame keeps its kretprobe instances until it returns; an interrupt's, its mark.
  if (f.irq) return { ...f, pc: f.pc + 1 };
  return f.rp === undefined ? { fn: f.fn, pc: f.pc + 1, up: f.up } : { fn: f.fn, pc: f.pc + 1, up: f.up, rp: f.rp };
}

export function callFrame(f: Frame | null, fn: string, fromCallSite: boolean): Frame {
  return { fn, pc: 0, up: fromCallSite ? stepFrame(f) : f };
}

export function retFrame(f: Frame | null, fn: string): Frame | null {
  if (f === null || f.fn !== fn) return fail(`return from ${fn}, but the innermost frame is ${f?.fn ?? 'none'}`);
  return f.up;
}
