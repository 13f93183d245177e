// The x86_64 instruction set of the built-in image: short, plausible function bodies of
// hand-sized AT&T instructions with their true encoded lengths, so offsets such as
// `vfs_read+0x4` mean what they would on a real (non-IBT) build: no ENDBR64 (R24), and +0 is
// `push %rbp`, an ordinary instruction that a kprobe can single-step out of line.

import { RET, type FuncSpec, type Isa, type RawInsn } from './builder.ts';
import type { BuildConfig } from './image.ts';

/** Where core kernel text starts on x86_64 without KASLR (the `_stext` of a default build). */
export const TEXT_BASE = 0xffffffff81000000n;
/** Where the built-in image puts its data symbols, well past the end of text. */
export const DATA_BASE = 0xffffffff82000000n;
/** Where module text starts (x86_64's module area). */
export const MODULE_BASE = 0xffffffffc0000000n;

// Argument shuffling and field accesses seen in typical small kernel functions; the byte counts
// are their real encodings (e.g. `mov 0x10(%rdi),%rax` = 48 8b 47 10). None of them branch, trap
// or touch %rip, so all of them are safe to single-step out of line.
const FILLER: readonly RawInsn[] = [
  ['mov    0x10(%rdi),%rax', 4],
  ['test   %rsi,%rsi', 3],
  ['lea    0x8(%rdi),%rsi', 4],
  ['cmp    $0x1,%esi', 3],
  ['movslq %esi,%rsi', 3],
  ['mov    0x28(%rdi),%rdx', 4],
  ['movl   $0x0,0x18(%rdi)', 7],
  ['xor    %ecx,%ecx', 2],
  ['cmpq   $0x0,0x20(%rdi)', 5],
  ['mov    %edi,%eax', 2],
];

/** How the return value gets into %eax right before the epilogue. */
function setReturn(ret: number | 'pid'): RawInsn {
  if (ret === 'pid') return ['mov    %r12d,%eax', 3]; // the child's pid, saved in %r12 after the fork
  if (ret === 0) return ['xor    %eax,%eax', 2];
  return [`mov    $0x${(ret >>> 0).toString(16)},%eax`, 5]; // b8 imm32
}

/**
 * The instructions of one function. `seed` (its position in the image) picks the filler so
 * that neighbouring functions do not look identical, without any randomness.
 */
function bodyFor(spec: FuncSpec, seed: number, config: BuildConfig): RawInsn[] {
  if (spec.bare) return [['ret', 1, RET]];
  if (spec.raw) return [...entryOf(spec, config), ...spec.raw];
  return [...entryOf(spec, config), ...frameBody(spec, seed)];
}

/**
 * What a C function's entry holds before its own code: ENDBR64 on IBT builds (R24), then the
 * fentry call site that ftrace patches (R25.1). Code that must not be traced (noinstr, entry
 * text, kprobes' own NOKPROBE machinery) has no fentry site.
 */
function entryOf(spec: FuncSpec, config: BuildConfig): RawInsn[] {
  const out: RawInsn[] = [];
  if (config.ibt) out.push(['endbr64', 4]);
  const traceable = (spec.section ?? 'text') === 'text' && !spec.nokprobe;
  if (config.ftrace && traceable) out.push(['nopl   0x0(%rax,%rax,1)', 5, { k: 'fentry' }]);
  return out;
}

function frameBody(spec: FuncSpec, seed: number): RawInsn[] {
  const calls = spec.calls ?? [];
  const ret = spec.ret ?? 0;
  const fill = (k: number): RawInsn => FILLER[(seed + k) % FILLER.length]!;
  const raw: RawInsn[] = [
    ['push   %rbp', 1],
    ['mov    %rsp,%rbp', 3],
  ];
  if (calls.length === 0) {
    raw.push(fill(0), fill(1));
  } else {
    // A caller keeps its first argument in a callee-saved register across the calls.
    raw.push(['push   %rbx', 1], ['mov    %rdi,%rbx', 3]);
    if (calls.length === 1) raw.push(fill(0)); // keeps two-call bodies within ~12 instructions
    if (ret === 'pid') raw.push(['push   %r12', 2]);
    calls.forEach((fn, i) => {
      if (i > 0) raw.push(['mov    %rbx,%rdi', 3]);
      raw.push([`call   <${fn}>`, 5, { k: 'call', fn }]);
      if (ret === 'pid' && i === 0) raw.push(['mov    %eax,%r12d', 3]);
    });
  }
  raw.push(setReturn(ret));
  if (calls.length > 0) {
    if (ret === 'pid') raw.push(['pop    %r12', 2]);
    raw.push(['pop    %rbx', 1]);
  }
  raw.push(['pop    %rbp', 1], ['ret', 1, RET]);
  return raw;
}


export const X86_64_ISA: Isa = { arch: 'x86_64', textBase: TEXT_BASE, dataBase: DATA_BASE, moduleBase: MODULE_BASE, bodyFor };
