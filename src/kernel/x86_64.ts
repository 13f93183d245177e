// The built-in x86_64 kernel image: a few dozen real kernel functions with short, plausible
// bodies. Bodies are hand-sized AT&T instructions with their true encoded lengths, so offsets
// such as `vfs_read+0x4` mean what they would on a real (non-IBT) build: no ENDBR64 (R24), and
// +0 is `push %rbp`, an ordinary instruction that a kprobe can single-step out of line.

import type {
  AliasSymbol,
  DataSymbol,
  Effect,
  FunctionSymbol,
  Insn,
  KernelImage,
  KernelSymbol,
  Op,
  Section,
} from './image.ts';

/** The one-instruction `ret` an overridden function returns through (R46 with a changed IP). */
export const JUST_RETURN_FUNC = 'just_return_func';

/** Where core kernel text starts on x86_64 without KASLR (the `_stext` of a default build). */
export const TEXT_BASE = 0xffffffff81000000n;
/** Where the built-in image puts its data symbols, well past the end of text. */
export const DATA_BASE = 0xffffffff82000000n;
/** The compiler aligns function entries to 16 bytes (-falign-functions=16). */
export const FUNC_ALIGN = 16n;
/** Cache-line alignment for the data symbols. */
export const DATA_ALIGN = 64n;

/** What a function looks like before it is laid out. */
/** Where module text starts (x86_64's module area); each module gets its own 1 MiB. */
export const MODULE_BASE = 0xffffffffc0000000n;
export const MODULE_SPAN = 0x100000n;

export interface FuncSpec {
  /** In the module's init text (module functions only). */
  init?: boolean;
  readonly name: string;
  readonly section?: Section;
  readonly nokprobe?: boolean;
  /** Direct callees, called in this order. */
  readonly calls?: readonly string[];
  readonly ret?: number | 'pid';
  readonly effect?: Effect;
  /** A bare `ret`, no frame set-up (an asm stub such as just_return_func). */
  readonly bare?: boolean;
}

/** One instruction before offsets are assigned: [text, length, op]. */
type RawInsn = readonly [text: string, len: number, op?: Op];

const INSN: Op = { k: 'insn' };
const RET: Op = { k: 'ret' };

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
function bodyFor(spec: FuncSpec, seed: number): RawInsn[] {
  if (spec.bare) return [['ret', 1, RET]];
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

function alignUp(addr: bigint, align: bigint): bigint {
  return (addr + align - 1n) / align * align;
}

/**
 * Lays functions out from TEXT_BASE and data from DATA_BASE, in the order they are added, and
 * checks the result (unknown callees, duplicate names, dangling aliases) when built.
 */
export class ImageBuilder {
  private readonly fns: FunctionSymbol[] = [];
  private readonly datas: DataSymbol[] = [];
  private readonly aliases: AliasSymbol[] = [];
  private nextText: bigint;
  private nextData = DATA_BASE;

  /**
   * A builder for the core image, or (with `module`) for a loadable module's text at `textBase`,
   * whose functions may call the core functions named in `external`.
   */
  constructor(
    private readonly opts: { textBase?: bigint; module?: string; external?: ReadonlySet<string> } = {},
  ) {
    this.nextText = opts.textBase ?? TEXT_BASE;
  }

  func(spec: FuncSpec): this {
    const addr = alignUp(this.nextText, FUNC_ALIGN);
    let off = 0;
    const body: Insn[] = bodyFor(spec, this.fns.length).map(([text, len, op]) => {
      const insn: Insn = Object.freeze({ off, len, text, op: op ?? INSN });
      off += len;
      return insn;
    });
    const fn: FunctionSymbol = {
      kind: 'func',
      name: spec.name,
      addr,
      size: off,
      section: spec.section ?? 'text',
      nokprobe: spec.nokprobe ?? false,
      body: Object.freeze(body),
      ret: spec.ret ?? 0,
      ...(spec.effect !== undefined ? { effect: spec.effect } : {}),
      ...(this.opts.module !== undefined ? { module: this.opts.module, ...(spec.init ? { init: true } : {}) } : {}),
    };
    this.fns.push(Object.freeze(fn));
    this.nextText = addr + BigInt(off); // the gap up to the next alignment is padding, no symbol
    return this;
  }

  /** Another name for a function or data symbol already added (or added later). */
  alias(name: string, target: string): this {
    this.aliases.push(Object.freeze({ kind: 'alias', name, target }));
    return this;
  }

  data(name: string, size: number): this {
    const addr = alignUp(this.nextData, DATA_ALIGN);
    this.datas.push(Object.freeze({ kind: 'data', name, addr, size }));
    this.nextData = addr + BigInt(size);
    return this;
  }

  build(): KernelImage {
    const names = new Set<string>();
    for (const s of [...this.fns, ...this.datas, ...this.aliases]) {
      if (names.has(s.name)) throw new Error(`kernel image: duplicate symbol ${s.name}`);
      names.add(s.name);
    }
    const fnNames = new Set(this.fns.map((f) => f.name));
    for (const f of this.fns) {
      for (const i of f.body) {
        if (i.op.k === 'call' && !fnNames.has(i.op.fn) && !this.opts.external?.has(i.op.fn)) {
          throw new Error(`kernel image: ${f.name} calls unknown function ${i.op.fn}`);
        }
      }
    }
    if (this.opts.module === undefined && this.fns.length > 0 && this.nextText > DATA_BASE) {
      throw new Error('kernel image: text runs into data');
    }
    // Address order, each alias right after the symbol it names (the KernelImage contract).
    const ordered: KernelSymbol[] = [];
    for (const s of [...this.fns, ...this.datas]) {
      ordered.push(s);
      for (const a of this.aliases) if (a.target === s.name) ordered.push(a);
    }
    for (const a of this.aliases) {
      if (!ordered.includes(a)) throw new Error(`kernel image: alias ${a.name} names unknown ${a.target}`);
    }
    return Object.freeze({ arch: 'x86_64', symbols: Object.freeze(ordered) });
  }
}

/** The kernel releases the model can follow (spec: v6.17 is the reference; older ones for the seeds). */
export const KERNEL_VERSIONS = ['4.14', '5.10', '6.17'] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];
export const DEFAULT_KERNEL: KernelVersion = '6.17';

/** Functions the modelled releases know under different names: old name → new name. */
export const RENAMED: Readonly<Record<string, string>> = {
  _do_fork: 'kernel_clone', // v5.10
  printk: '_printk', // v5.15 (printk became a macro)
  do_page_fault: 'exc_page_fault', // v5.8
  int3: 'asm_exc_int3', // v5.8
};

/** Whether release `v` is `min` or later ("5.10" ≥ "5.8"). */
export const atLeast = (v: KernelVersion, min: string): boolean => {
  const [a, b] = v.split('.').map(Number) as [number, number];
  const [c, d] = min.split('.').map(Number) as [number, number];
  return a > c || (a === c && b >= d);
};

function buildX86_64(version: KernelVersion): KernelImage {
  const b = new ImageBuilder();
  const text = (name: string, calls: readonly string[] = [], ret: number | 'pid' = 0): void => {
    b.func({ name, calls, ret });
  };
  // printk became a macro around _printk in v5.15.
  const printk = atLeast(version, '5.15') ? '_printk' : 'printk';

  // Process creation: `_do_fork` was renamed `kernel_clone` in v5.10.
  text(atLeast(version, '5.10') ? 'kernel_clone' : '_do_fork', ['copy_process', 'wake_up_new_task'], 'pid');
  b.func({ name: 'copy_process', calls: ['dup_task_struct'], effect: 'fork' });
  text('dup_task_struct');
  text('wake_up_new_task');

  // open(2) and read(2) paths; do_sys_openat2 came with openat2(2) in v5.6.
  if (atLeast(version, '5.6')) {
    text('do_sys_open', ['do_sys_openat2'], 3);
    text('do_sys_openat2', ['getname', 'do_filp_open'], 3);
  } else {
    text('do_sys_open', ['getname', 'do_filp_open'], 3);
  }
  text('getname');
  text('do_filp_open', ['vfs_open']);
  text('vfs_open');
  text('ksys_read', ['vfs_read']);
  text('vfs_read', ['rw_verify_area']);
  text('rw_verify_area');

  text('vfs_symlink');
  text('dput');
  text('kfree');

  text(printk, ['vprintk']);
  text('vprintk', ['vprintk_emit']);
  text('vprintk_emit');
  text('dump_stack', [printk]);

  text('schedule', ['__schedule']);
  text('__schedule', ['__switch_to']);
  text('__switch_to');

  // do_exit never returns: the CPU ends the task when it reaches the ret.
  b.func({ name: 'do_exit', calls: ['exit_mm'], effect: 'exit' });
  text('exit_mm');

  text('inet_csk_accept');
  text('tracefs_create_dir');
  text('notifier_call_chain');

  // Since v5.8 the page-fault entry is exc_page_fault, noinstr (R28.3); the older
  // do_page_fault was NOKPROBE_SYMBOL'd instead (R28.2).
  if (atLeast(version, '5.8')) b.func({ name: 'exc_page_fault', section: 'noinstr', calls: ['handle_mm_fault'] });
  else b.func({ name: 'do_page_fault', nokprobe: true, calls: ['handle_mm_fault'] });
  text('handle_mm_fault');

  // kprobes' own machinery, which must never be probed (R28.1, R28.2), and the entry code
  // (R28.3, R28.4).
  b.func({ name: 'get_kprobe', nokprobe: true });
  b.func({ name: 'kprobe_int3_handler', nokprobe: true });
  b.func({ name: 'arch_arm_kprobe', section: 'kprobes.text' });
  // Where a kretprobed function returns to (R75, R79); never probeable.
  b.func({ name: 'kretprobe_trampoline', section: 'kprobes.text' });
  b.func({ name: 'kprobe_ftrace_handler', nokprobe: true });
  b.func({ name: atLeast(version, '5.8') ? 'asm_exc_int3' : 'int3', section: 'entry.text' });
  b.func({ name: 'entry_SYSCALL_64', section: 'entry.text' });
  b.func({ name: 'do_int3', section: 'noinstr' });

  text('rcu_read_lock_held');
  text('synchronize_rcu');
  text('mutex_lock');
  text('fput');

  // Targets the kernel's ftrace kprobe selftests like to use.
  text('vfs_write');
  text('ksys_write', ['vfs_write']);
  text('kernel_read');
  text('security_inode_getattr');
  text('do_execve');
  // arch/x86/lib/error-inject.c (v4.16+, CONFIG_FUNCTION_ERROR_INJECTION): where
  // override_function_with_return() points regs->ip. Last, so no other address moves.
  if (atLeast(version, '4.16')) b.func({ name: JUST_RETURN_FUNC, bare: true });

  b.data('linux_proc_banner', 0x60);
  b.data('_sdata', 8);
  b.data('jiffies', 8);
  b.data('init_task', 0x2000);
  return b.build();
}

const IMAGES = new Map<KernelVersion, KernelImage>(KERNEL_VERSIONS.map((v) => [v, buildX86_64(v)]));

/** The built-in x86_64 image of a kernel release. */
export function x86_64Image(version: KernelVersion): KernelImage {
  return IMAGES.get(version)!;
}

/** The image of the reference kernel, which every scenario boots unless it names another. */
export const X86_64_IMAGE: KernelImage = x86_64Image(DEFAULT_KERNEL);
