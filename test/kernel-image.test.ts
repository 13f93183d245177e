// The built-in image and its symbol table: layout invariants checked from first principles
// (sums, alignment, ordering) rather than against a recorded dump.

import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS, ImageBuilder, SymbolTable, symbolsFor, X86_64_IMAGE, X86_64_ISA } from '../src/kernel/index.ts';
import type { FunctionSymbol } from '../src/kernel/index.ts';

const syms = BUILTIN_SYMBOLS;
const fns = syms.functions();

function fn(name: string): FunctionSymbol {
  const s = syms.lookup(name);
  if (s?.kind !== 'func') throw new Error(`${name} is not a function`);
  return s;
}

describe('x86_64 image layout', () => {
  it('lists every function with a body contiguous from 0 whose lengths sum to its size', () => {
    expect(fns.length).toBeGreaterThan(0);
    for (const f of fns) {
      let expected = 0;
      for (const i of f.body) {
        expect(i.off, `${f.name} ${i.text}`).toBe(expected);
        expect(i.len).toBeGreaterThanOrEqual(1);
        expect(i.len).toBeLessThanOrEqual(15); // the x86 instruction length limit
        expected += i.len;
      }
      expect(f.size, f.name).toBe(expected);
    }
  });

  it('aligns functions to 16 bytes without overlap, in address order', () => {
    for (const f of fns) expect(f.addr % 16n, f.name).toBe(0n);
    for (let i = 1; i < fns.length; i++) {
      const prev = fns[i - 1]!;
      expect(prev.addr + BigInt(prev.size) <= fns[i]!.addr, `${prev.name} / ${fns[i]!.name}`).toBe(true);
    }
    // The image lists symbols in address order too (KernelImage contract).
    const addrs = X86_64_IMAGE.symbols.flatMap((s) => (s.kind === 'alias' ? [] : [s.addr]));
    expect(addrs.every((a, i) => i === 0 || addrs[i - 1]! < a)).toBe(true);
  });

  it('keeps addresses as bigint in the kernel half, and hex round-trips them exactly', () => {
    for (const s of X86_64_IMAGE.symbols) {
      if (s.kind === 'alias') continue;
      expect(typeof s.addr).toBe('bigint');
      expect(s.addr > 0xffffffff80000000n).toBe(true);
      expect(BigInt(`0x${s.addr.toString(16)}`)).toBe(s.addr);
    }
    // Why not number: a double has 53 mantissa bits, so a kernel address loses its low bits.
    const odd = 0xffffffff81000001n;
    expect(BigInt(Number(odd))).not.toBe(odd);
    expect(BigInt(`0x${odd.toString(16)}`)).toBe(odd);
  });

  it('calls only functions the image defines', () => {
    const names = new Set(fns.map((f) => f.name));
    for (const f of fns) {
      for (const i of f.body) if (i.op.k === 'call') expect(names.has(i.op.fn), `${f.name} → ${i.op.fn}`).toBe(true);
    }
  });

  it('starts every function with an ordinary instruction and ends it with ret (R26: +0 single-steps)', () => {
    // The one exception: the error-injection stub is a bare `ret`, placed after every function
    // the images had before it; only code added later follows it (the timer interrupt's, the
    // x86_64 system-call wrappers, then the kretprobe trampoline's handler chain), so that no
    // earlier address moved.
    expect(fn('just_return_func').body.map((i) => [i.text, i.len, i.op.k])).toEqual([['ret', 1, 'ret']]);
    const after = fns.slice(fns.findIndex((f) => f.name === 'just_return_func') + 1).map((f) => f.name);
    expect(after).toEqual([
      'asm_sysvec_apic_timer_interrupt', 'sysvec_apic_timer_interrupt', 'hrtimer_interrupt', 'tick_sched_timer', 'update_process_times', 'account_process_tick', 'scheduler_tick',
      '__x64_sys_openat', '__x64_sys_read',
      'kretprobe_rethook_handler', 'rethook_trampoline_handler', 'arch_rethook_trampoline_callback', 'arch_rethook_trampoline',
    ]);
    for (const f of fns.filter((f) => f.name !== 'just_return_func')) {
      expect(f.body[0]?.op.k, f.name).toBe('insn');
      expect(f.body.at(-1)?.op.k, f.name).toBe('ret');
    }
  });

  it('gives the required call graph, return values and effects', () => {
    const callees = (name: string): string[] =>
      fn(name).body.flatMap((i) => (i.op.k === 'call' ? [i.op.fn] : []));
    expect(callees('kernel_clone')).toEqual(['copy_process', 'wake_up_new_task']);
    expect(callees('do_sys_openat2')).toEqual(['getname', 'do_filp_open']);
    expect(callees('exc_page_fault')).toEqual(['handle_mm_fault']);
    expect(fn('kernel_clone').ret).toBe('pid');
    expect(fn('do_sys_open').ret).toBe(3);
    expect(fn('copy_process').effect).toBe('fork');
    expect(fn('do_exit').effect).toBe('exit');
  });

  it('places data symbols from 0xffffffff82000000, 64-byte aligned, after all text', () => {
    const data = X86_64_IMAGE.symbols.filter((s) => s.kind === 'data');
    expect(data.map((d) => d.name)).toEqual(['linux_proc_banner', '_sdata', 'jiffies', 'init_task']);
    expect(data[0]!.addr).toBe(0xffffffff82000000n);
    const lastFn = fns.at(-1)!;
    for (const d of data) {
      expect(d.addr % 64n).toBe(0n);
      expect(d.addr >= lastFn.addr + BigInt(lastFn.size)).toBe(true);
    }
  });
});

describe('SymbolTable', () => {
  it('R21: resolves aliases to the address of their target and remembers the name asked', () => {
    const img = new ImageBuilder(X86_64_ISA).func({ name: 'kernel_clone' }).alias('_do_fork', 'kernel_clone').build();
    const t = new SymbolTable(img);
    expect(t.lookup('_do_fork')?.addr).toBe(t.lookup('kernel_clone')!.addr);
    const r = t.resolve('_do_fork');
    expect(r?.asked).toBe('_do_fork');
    expect(r?.alias?.target).toBe('kernel_clone');
    expect(t.resolve('kernel_clone')?.alias).toBeUndefined();
    expect(t.lookup('no_such_function')).toBeUndefined();
  });

  it('each release names its functions as that kernel did: _do_fork before v5.10, printk before v5.15', () => {
    const v414 = symbolsFor('4.14');
    const v510 = symbolsFor('5.10');
    expect(v414.lookup('_do_fork')?.kind).toBe('func');
    expect(v414.lookup('kernel_clone')).toBeUndefined();
    expect(v510.lookup('kernel_clone')?.kind).toBe('func');
    expect(v510.lookup('_do_fork')).toBeUndefined();
    expect(v510.lookup('printk')?.kind).toBe('func');
    expect(v510.lookup('_printk')).toBeUndefined();
    expect(syms.lookup('_printk')?.kind).toBe('func');
    expect(syms.lookup('printk')).toBeUndefined();
    // openat2(2) arrived in v5.6, exc_page_fault in v5.8.
    expect(v414.lookup('do_sys_openat2')).toBeUndefined();
    expect(v414.lookup('do_page_fault')?.kind).toBe('func');
    expect(syms.lookup('exc_page_fault')?.kind).toBe('func');
  });

  it('R21: containing() finds a symbol at its first, a middle and its last byte, and none in padding', () => {
    // Pick a function whose size is not a multiple of 16, so padding follows it.
    const f = fns.find((g) => g.size % 16 !== 0)!;
    const end = f.addr + BigInt(f.size);
    expect(syms.containing(f.addr)).toBe(f);
    expect(syms.containing(f.addr + BigInt(f.size >> 1))).toBe(f);
    expect(syms.containing(end - 1n)).toBe(f);
    expect(syms.containing(end)).toBeUndefined();
    expect(syms.containing(0xffffffff80000000n)).toBeUndefined();
    const jiffies = syms.lookup('jiffies')!;
    expect(syms.containing(jiffies.addr + 7n)).toBe(jiffies);
  });

  it('R26: insnAt() accepts instruction boundaries only', () => {
    const f = fn('kernel_clone');
    const second = f.body[1]!;
    expect(syms.insnAt(f.addr + BigInt(second.off))).toEqual({ fn: f, index: 1, insn: second });
    // mov %rsp,%rbp is 3 bytes, so one byte into it is mid-instruction.
    expect(second.len).toBeGreaterThan(1);
    expect(syms.insnAt(f.addr + BigInt(second.off) + 1n)).toBeUndefined();
    expect(syms.insnAt(f.addr + BigInt(f.size))).toBeUndefined();
    expect(syms.insnAt(syms.lookup('jiffies')!.addr)).toBeUndefined();
  });

  it('formats addresses kernel-style as sym+0xoff/0xsize', () => {
    const f = fn('kernel_clone');
    expect(syms.format(f.addr)).toBe(`kernel_clone+0x0/0x${f.size.toString(16)}`);
    expect(syms.format(f.addr + 26n)).toBe(`kernel_clone+0x1a/0x${f.size.toString(16)}`);
    expect(syms.format(0x1000n)).toBeUndefined();
  });

  it('R21: suggests the nearest name for an unknown symbol, and nothing for gibberish', () => {
    expect(syms.suggest('kernel_clon')).toBe('kernel_clone');
    expect(syms.suggest('vfs_reed')).toBe('vfs_read');
    expect(syms.suggest('zzzzzz')).toBeUndefined();
  });

  it('R28: blacklists kprobes.text, NOKPROBE_SYMBOL, noinstr, entry text and clones of them', () => {
    expect(syms.blacklistRule('arch_arm_kprobe')).toBe('R28.1');
    expect(syms.blacklistRule('get_kprobe')).toBe('R28.2');
    expect(symbolsFor('4.14').blacklistRule('do_page_fault')).toBe('R28.2');
    expect(syms.blacklistRule('exc_page_fault')).toBe('R28.3');
    expect(syms.blacklistRule('asm_exc_int3')).toBe('R28.4');
    expect(syms.isBlacklisted(fn('entry_SYSCALL_64'))).toBe(true);
    for (const clone of ['get_kprobe.isra.0', 'get_kprobe.constprop.0', 'do_int3.part.0', 'arch_arm_kprobe.cold']) {
      expect(syms.blacklistRule(clone), clone).toBe('R28.6');
    }
    expect(syms.isBlacklisted(fn('kernel_clone'))).toBe(false);
    expect(syms.isBlacklisted('kernel_clone.isra.0')).toBe(false);
    expect(syms.isBlacklisted('vfs_read')).toBe(false);
  });

  it('R28.6: a clone present in the image is judged by its base name', () => {
    const image = new ImageBuilder(X86_64_ISA)
      .func({ name: 'get_kprobe', nokprobe: true })
      .func({ name: 'get_kprobe.isra.0' })
      .func({ name: 'foo.cold' })
      .build();
    const t = new SymbolTable(image);
    expect(t.blacklistRule(t.lookup('get_kprobe.isra.0') as FunctionSymbol)).toBe('R28.6');
    expect(t.isBlacklisted(t.lookup('foo.cold') as FunctionSymbol)).toBe(false);
  });

  it('rejects images that call or alias unknown functions', () => {
    expect(() => new ImageBuilder(X86_64_ISA).func({ name: 'a', calls: ['b'] }).build()).toThrow(/unknown function b/);
    expect(() => new ImageBuilder(X86_64_ISA).alias('x', 'y').build()).toThrow(/alias x/);
  });
});

describe('the arm64 image (kprobesim shell --arch arm64)', () => {
  const arm = symbolsFor('6.17', 'arm64');
  const armFns = arm.functions();

  it('has fixed 4-byte instructions, 16-byte aligned entries, frame record first, in arm64 kernel text', () => {
    expect(arm.image.arch).toBe('arm64');
    for (const f of armFns) {
      expect(f.body.every((i) => i.len === 4), f.name).toBe(true);
      expect(f.size, f.name).toBe(4 * f.body.length);
      expect(f.addr % 16n, f.name).toBe(0n);
      expect(f.addr >= 0xffff800010000000n && f.addr < 0xffff800011000000n, f.name).toBe(true);
    }
    expect(arm.lookup('vfs_read')!.kind === 'func' && (arm.lookup('vfs_read') as FunctionSymbol).body[0]!.text).toMatch(/^stp +x29, x30/);
    expect((arm.lookup('vfs_read') as FunctionSymbol).body.find((i) => i.op.k === 'call')?.text).toBe('bl     <rw_verify_area>');
  });

  it('keeps the x86_64 image’s common functions and uses arm64 names for trap and entry code (R28)', () => {
    const x86Only = ['kprobe_int3_handler', 'asm_exc_int3', 'entry_SYSCALL_64', 'do_int3', 'exc_page_fault', 'asm_sysvec_apic_timer_interrupt', 'sysvec_apic_timer_interrupt', '__x64_sys_openat', '__x64_sys_read'];
    const common = fns.map((f) => f.name).filter((n) => !x86Only.includes(n));
    for (const n of common) expect(arm.lookup(n)?.kind, n).toBe('func');
    expect(arm.lookup('entry_SYSCALL_64')).toBeUndefined();
    expect(arm.blacklistRule('kprobe_breakpoint_handler')).toBe('R28.2');
    expect(arm.blacklistRule('do_page_fault')).toBe('R28.2');
    expect(arm.blacklistRule('do_debug_exception')).toBe('R28.3');
    expect(arm.blacklistRule('el1_dbg')).toBe('R28.4');
    expect(arm.blacklistRule('el0_svc')).toBe('R28.4');
    expect(arm.isBlacklisted('kernel_clone')).toBe(false);
  });

  it('system calls enter through the wrappers and the entry frames its stack traces show, per release', () => {
    expect(arm.image.entryChain).toEqual(['invoke_syscall', 'el0_svc_common.constprop.0', 'do_el0_svc', 'el0_svc', 'el0t_64_sync_handler', 'el0t_64_sync']);
    expect(symbolsFor('5.10', 'arm64').image.entryChain).toEqual(['el0_svc_common.constprop.0', 'do_el0_svc', 'el0_svc', 'el0_sync_handler', 'el0_sync']);
    const clone = arm.lookup('__arm64_sys_clone') as FunctionSymbol;
    expect(clone.body.filter((i) => i.op.k === 'call').map((i) => i.op.k === 'call' && i.op.fn)).toEqual(['kernel_clone']);
    expect((symbolsFor('4.14', 'arm64').lookup('__arm64_sys_clone') as FunctionSymbol).body.some((i) => i.op.k === 'call' && i.op.fn === '_do_fork')).toBe(true);
    // Each entry frame calls the next one in (the innermost calls the wrappers).
    const chain = arm.image.entryChain;
    chain.slice(1).forEach((name, i) => {
      expect((arm.lookup(name) as FunctionSymbol).body.some((x) => x.op.k === 'call' && x.op.fn === chain[i]), name).toBe(true);
    });
    expect(X86_64_IMAGE.entryChain).toEqual(['entry_SYSCALL_64']);
  });
});
