// Lays out a kernel image from function specs: an instruction set (Isa) gives each function its
// instructions; the builder assigns addresses and checks the result.

import type { AliasSymbol, Arch, BuildConfig, DataSymbol, Effect, FunctionSymbol, Insn, KernelImage, KernelSymbol, Op, Section } from './image.ts';

/** The compiler aligns function entries to 16 bytes (-falign-functions=16). */
export const FUNC_ALIGN = 16n;
/** Cache-line alignment for the data symbols. */
export const DATA_ALIGN = 64n;
/** Each loadable module gets its own 1 MiB of the module area. */
export const MODULE_SPAN = 0x100000n;

/** What a function looks like before it is laid out. */
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
  /** The function's own instructions after the arch's entry (a C module's: src/cexec runs them). */
  readonly raw?: readonly RawInsn[];
}

/** One instruction before offsets are assigned: [text, length, op]. */
export type RawInsn = readonly [text: string, len: number, op?: Op];

export const INSN: Op = { k: 'insn' };
export const RET: Op = { k: 'ret' };

/** An architecture's instruction set and address map, as far as the image needs them. */
export interface Isa {
  readonly arch: Arch;
  /** Where core kernel text starts without KASLR (`_stext`). */
  readonly textBase: bigint;
  /** Where the built-in image puts its data symbols, well past the end of text. */
  readonly dataBase: bigint;
  /** Where module text starts. */
  readonly moduleBase: bigint;
  /**
   * The instructions of one function. `seed` (its position in the image) picks the filler so
   * that neighbouring functions do not look identical, without any randomness.
   */
  bodyFor(spec: FuncSpec, seed: number, config: BuildConfig): RawInsn[];
}

function alignUp(addr: bigint, align: bigint): bigint {
  return (addr + align - 1n) / align * align;
}

/**
 * Lays functions out from the text base and data from the data base, in the order they are
 * added, and checks the result (unknown callees, duplicate names, dangling aliases) when built.
 */
export class ImageBuilder {
  private readonly fns: FunctionSymbol[] = [];
  private readonly datas: DataSymbol[] = [];
  private readonly aliases: AliasSymbol[] = [];
  private nextText: bigint;
  private nextData: bigint;

  /**
   * A builder for the core image, or (with `module`) for a loadable module's text at `textBase`,
   * whose functions may call the core functions named in `external`.
   */
  constructor(
    private readonly isa: Isa,
    private readonly opts: { textBase?: bigint; module?: string; external?: ReadonlySet<string>; config?: BuildConfig } = {},
  ) {
    this.nextText = opts.textBase ?? isa.textBase;
    this.nextData = isa.dataBase;
  }

  func(spec: FuncSpec): this {
    const addr = alignUp(this.nextText, FUNC_ALIGN);
    let off = 0;
    const body: Insn[] = this.isa.bodyFor(spec, this.fns.length, this.opts.config ?? {}).map(([text, len, op]) => {
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

  build(extra: { readonly entryChain?: readonly string[]; readonly timerEntry?: string } = {}): KernelImage {
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
    if (this.opts.module === undefined && this.fns.length > 0 && this.nextText > this.isa.dataBase) {
      throw new Error('kernel image: text runs into data');
    }
    for (const n of [...(extra.entryChain ?? []), ...(extra.timerEntry ? [extra.timerEntry] : [])]) {
      if (!fnNames.has(n)) throw new Error(`kernel image: entry chain names unknown function ${n}`);
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
    return Object.freeze({
      arch: this.isa.arch,
      symbols: Object.freeze(ordered),
      entryChain: Object.freeze([...(extra.entryChain ?? [])]),
      ...(extra.timerEntry !== undefined ? { timerEntry: extra.timerEntry } : {}),
      config: Object.freeze({ ...(this.opts.config ?? {}) }),
    });
  }
}
