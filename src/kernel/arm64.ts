// The arm64 instruction set of the built-in image: every instruction is 4 bytes, a function
// saves its frame record (x29, x30) on entry, calls are `bl`, and +0 is the `stp`, an ordinary
// instruction that a kprobe single-steps out of line like any other (arm64 has no boosting).

import { RET, type FuncSpec, type Isa, type RawInsn } from './builder.ts';

/** Where core kernel text starts on arm64 (48-bit VA, no KASLR): `_stext`. */
export const ARM64_TEXT_BASE = 0xffff800010010000n;
export const ARM64_DATA_BASE = 0xffff800011c80000n;
/** arm64's module area, below the kernel image. */
export const ARM64_MODULE_BASE = 0xffff800008000000n;

const FILLER: readonly string[] = [
  'ldr    x1, [x0, #16]',
  'add    x2, x0, #0x8',
  'cmp    w1, #0x1',
  'sxtw   x1, w1',
  'ldr    x2, [x0, #40]',
  'str    wzr, [x0, #24]',
  'mov    w3, #0x0',
  'ldr    x4, [x0, #32]',
  'mov    w0, w0',
  'tst    x1, x1',
];

const insn = (text: string): RawInsn => [text, 4];

function setReturn(ret: number | 'pid'): RawInsn {
  if (ret === 'pid') return insn('mov    w0, w20'); // the child's pid, kept in x20 after the fork
  if (ret === 0) return insn('mov    w0, #0x0');
  return insn(`mov    w0, #0x${(ret >>> 0).toString(16)}`);
}

function bodyFor(spec: FuncSpec, seed: number): RawInsn[] {
  if (spec.bare) return [['ret', 4, RET]];
  if (spec.raw) return [...spec.raw];
  const calls = spec.calls ?? [];
  const ret = spec.ret ?? 0;
  const fill = (k: number): RawInsn => insn(FILLER[(seed + k) % FILLER.length]!);
  const raw: RawInsn[] = [insn('stp    x29, x30, [sp, #-32]!'), insn('mov    x29, sp')];
  if (calls.length === 0) {
    raw.push(fill(0), fill(1));
  } else {
    // A caller keeps its first argument in a callee-saved register across the calls.
    raw.push(insn('stp    x19, x20, [sp, #16]'), insn('mov    x19, x0'));
    if (calls.length === 1) raw.push(fill(0));
    calls.forEach((fn, i) => {
      if (i > 0) raw.push(insn('mov    x0, x19'));
      raw.push([`bl     <${fn}>`, 4, { k: 'call', fn }]);
      if (ret === 'pid' && i === 0) raw.push(insn('mov    w20, w0'));
    });
  }
  raw.push(setReturn(ret));
  if (calls.length > 0) raw.push(insn('ldp    x19, x20, [sp, #16]'));
  raw.push(insn('ldp    x29, x30, [sp], #32'), ['ret', 4, RET]);
  return raw;
}

export const ARM64_ISA: Isa = { arch: 'arm64', textBase: ARM64_TEXT_BASE, dataBase: ARM64_DATA_BASE, moduleBase: ARM64_MODULE_BASE, bodyFor };
