// Loading a kernel module written in C (issue 11): compile it with the C front end (src/c), and lay
// it out as a module of the kernel image: each function gets text in the module's slot of the
// module area, one instruction per lowered C instruction (so probes, stack traces, lsmod and
// [GONE] work as for any module's text), and its static data, string literals and parameters get
// addresses and initial bytes in the same slot. Compiles are cached by everything that decides
// them: runs of one process share them, and the fold's initial state and the image ask again.

import { compileModule, formatDiagnostics, type CompileResult } from '../c/index.ts';
import type { CheckedModule, Expr, Func, Global, Instr, LValue, StaticValue } from '../c/program.ts';
import { lineOf } from '../c/source.ts';
import { walkCode } from '../c/walk.ts';
import { sizeOf, unqual, type CType, type StructDef } from '../c/types.ts';
import { moduleNameOf } from '../c/kernel-api.ts';
import { ARM64_ISA, DEFAULT_KERNEL, symbolsFor, X86_64_ISA, type Arch, type BuildConfig, type KernelVersion, type ModuleText, type SymbolTable } from '../kernel/index.ts';
import { MODULE_SPAN } from '../kernel/builder.ts';
import { InputError } from '../errors.ts';
import { intBytes } from './memory.ts';
import { isNative } from './natives-list.ts';

/** A scenario's C module as the scenario (and so the log header) carries it. */
export interface CModuleSource {
  /** The file name as given (kbuild names the module after it). */
  readonly source: string;
  /** The C text. */
  readonly code: string;
  /** insmod's parameters. */
  readonly params?: Readonly<Record<string, string>>;
}

export interface BuildTarget {
  readonly arch: Arch;
  readonly kernel: KernelVersion;
  readonly config: BuildConfig;
}

/** Where a function's code and frame are. */
export interface CFunc {
  readonly module: string;
  readonly func: Func;
  /** Offset of each local slot in the frame's block. */
  readonly slots: readonly number[];
  readonly frameSize: number;
}

export interface CGlobal {
  readonly global: Global;
  readonly addr: bigint;
}

/** A `struct kprobe` / `struct kretprobe` global of a module: a probe of the run. */
export interface CProbe {
  /** The probe's name in the run (the global's name, qualified by the module when two modules share it). */
  readonly name: string;
  readonly module: string;
  readonly global: string;
  readonly kind: 'kprobe' | 'kretprobe' | 'jprobe';
  readonly addr: bigint;
  /** The struct's fields as the module's headers lay them out (offsets into the struct). */
  readonly fields: Readonly<Record<string, number>>;
  /** The probe may have a post_handler (its initializer or an assignment names one). */
  readonly post: boolean;
  /** What the static initializer says (the spec before init runs). */
  readonly symbol?: string;
}

/** An initial object of the module's memory (static data or string literals). */
export interface DataObject {
  readonly addr: bigint;
  readonly size: number;
  readonly kind: 'data' | 'rodata';
  readonly bytes: readonly number[];
}

export interface LoadedModule {
  readonly name: string;
  readonly source: CModuleSource;
  readonly program: CheckedModule;
  /** Its slot in the module area. */
  readonly textBase: bigint;
  readonly dataBase: bigint;
  readonly functions: ReadonlyMap<string, CFunc>;
  readonly globals: ReadonlyMap<string, CGlobal>;
  readonly strings: ReadonlyMap<number, bigint>;
  /** Where the module's data and strings end (a charp parameter's copy goes there). */
  readonly dataEnd: bigint;
  readonly probes: readonly CProbe[];
  /** Struct definitions of the module's headers by tag (task_struct, pt_regs, ...). */
  readonly structs: ReadonlyMap<string, StructDef>;
  /** What the image builds: its functions with one instruction per C instruction. */
  readonly text: ModuleText;
  readonly warnings: string;
}

/** Each C instruction is 4 bytes of module text on both arches (an arm64 instruction's size). */
export const C_INSN_LEN = 4;
/** The module's data starts half-way into its slot of the module area. */
const DATA_OFFSET = MODULE_SPAN / 2n;

const isaOf = (arch: Arch) => (arch === 'x86_64' ? X86_64_ISA : ARM64_ISA);

export function isCModule(m: object): m is CModuleSource {
  return typeof (m as { source?: unknown }).source === 'string' && typeof (m as { code?: unknown }).code === 'string';
}

// ── compiling, cached ───────────────────────────────────────────────────────────────────────

const COMPILED = new Map<string, CompileResult>();
const COMPILED_KEPT = 64;

function compileCached(src: CModuleSource, t: BuildTarget): CompileResult {
  const key = JSON.stringify([t.arch, t.kernel, t.config, src.source, src.code, src.params ?? {}]);
  let r = COMPILED.get(key);
  if (r === undefined) {
    r = compileModule(src.code, src.source, { arch: t.arch, kernel: t.kernel, build: t.config, params: { ...(src.params ?? {}) } });
    if (COMPILED.size >= COMPILED_KEPT) COMPILED.delete(COMPILED.keys().next().value!);
    COMPILED.set(key, r);
  }
  return r;
}

/** A module that does not compile, or uses what the model cannot run: gcc-style text, exit 2. */
export class ModuleLoadError extends InputError {
  constructor(
    readonly fileName: string,
    readonly diagnostics: string,
  ) {
    super(fileName, diagnostics.trimEnd());
  }
}

// ── layout ──────────────────────────────────────────────────────────────────────────────────

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const alignUpBig = (n: bigint, a: bigint): bigint => ((n + a - 1n) / a) * a;

function frameLayout(f: Func): { slots: number[]; size: number } {
  const slots: number[] = [];
  let off = 0;
  for (const l of f.locals) {
    off = alignUp(off, Math.max(1, l.align));
    slots[l.slot] = off;
    off += Math.max(l.size, 1);
  }
  return { slots, size: alignUp(Math.max(off, 8), 16) };
}

function structFields(t: CType): Record<string, number> {
  const u = unqual(t);
  const out: Record<string, number> = {};
  if (u.kind !== 'struct') return out;
  const walk = (def: StructDef, base: number, prefix: string) => {
    for (const f of def.members ?? []) {
      const ft = unqual(f.type);
      if (f.name === undefined) {
        if (ft.kind === 'struct') walk(ft.def, base + f.offset, prefix);
        continue;
      }
      out[prefix + f.name] = base + f.offset;
      if (ft.kind === 'struct' && f.name === 'kp') walk(ft.def, base + f.offset, 'kp.');
    }
  };
  walk(u.def, 0, '');
  return out;
}

/** Every struct definition reachable from the program's types, by tag (the kernel's objects a module reads). */
function collectStructs(m: CheckedModule): Map<string, StructDef> {
  const out = new Map<string, StructDef>();
  const seen = new Set<CType>();
  const visit = (t: CType | undefined): void => {
    if (t === undefined || seen.has(t)) return;
    seen.add(t);
    switch (t.kind) {
      case 'pointer':
        return visit(t.to);
      case 'array':
        return visit(t.of);
      case 'function':
        visit(t.ret);
        for (const p of t.params ?? []) visit(p);
        return;
      case 'struct':
        if (t.def.tag !== undefined && t.def.complete && !out.has(t.def.tag)) out.set(t.def.tag, t.def);
        for (const f of t.def.members ?? []) visit(f.type);
        return;
      default:
        return;
    }
  };
  for (const g of m.globals) visit(g.type);
  for (const f of m.functions) {
    visit(f.type);
    for (const l of f.locals) visit(l.type);
    walkCode(f.code, (e) => visit(e.type));
  }
  return out;
}


/** Functions reachable from the module's own code (header helpers only when something uses them). */
function reachable(m: CheckedModule): Func[] {
  const byName = new Map(m.functions.map((f) => [f.name, f]));
  const out = new Set<Func>();
  const todo = m.functions.filter((f) => !f.header);
  // Functions the module's data points at (a probe's handlers, KUnit cases) are reachable too.
  for (const g of m.globals) for (const i of g.init) if (i.value.k === 'addr' && i.value.target.k === 'function') {
    const f = byName.get(i.value.target.name);
    if (f) todo.push(f);
  }
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (out.has(f)) continue;
    out.add(f);
    walkCode(f.code, (e) => {
      if (e.k === 'func') {
        const g = byName.get(e.name);
        if (g && !out.has(g)) todo.push(g);
      }
    });
  }
  return m.functions.filter((f) => out.has(f));
}

/** gcc-style errors for what the model cannot run: a kernel function with no model, floating point. */
function unsupported(m: CheckedModule, fns: readonly Func[], symbols: SymbolTable | undefined): string[] {
  const own = new Set(m.functions.map((f) => f.name));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of fns) {
    walkCode(f.code, (e) => {
      const at = (span: Expr['span'], msg: string) => {
        const key = `${span.file.name}:${span.start}:${msg}`;
        if (seen.has(key)) return;
        seen.add(key);
        const line = lineOf(span.file, span.start);
        const col = span.start - (span.file.lineStarts[line - 1] ?? 0) + 1;
        // A kernel header's helper is reported where the module uses it: its name says enough.
        out.push(`${span.file.name}:${line}:${col}: error: ${msg}`);
      };
      if (e.k === 'func' && !own.has(e.name) && !isNative(e.name) && symbols?.lookup(e.name)?.kind !== 'func') {
        at(e.span, `'${e.name}' is not supported at run time by the model (in function '${f.name}')`);
      }
      if (unqual(e.type).kind === 'float') at(e.span, `floating point is not supported at run time by the model (in function '${f.name}')`);
    });
  }
  return out;
}

function probeName(module: string, global: string, clash: boolean): string {
  return clash ? `${module}.${global}` : global;
}

/** Whether any code assigns a function to `<global>...post_handler`. */
function assignsPost(m: CheckedModule, global: string): boolean {
  const baseIs = (lv: LValue): boolean => (lv.k === 'global' ? lv.name === global : lv.k === 'member' ? baseIs(lv.base) : false);
  let found = false;
  for (const f of m.functions) {
    walkCode(f.code, (e) => {
      if (e.k === 'assign' && e.target.k === 'member' && e.target.field === 'post_handler' && baseIs(e.target.base)) found = true;
    });
  }
  return found;
}

/**
 * Compiles and lays out a scenario's C module (the `index`-th module of the scenario: its slot in
 * the module area). Throws ModuleLoadError with gcc's diagnostics when it does not compile.
 */
export function loadModule(src: CModuleSource, index: number, t: BuildTarget, others: ReadonlySet<string> = new Set()): LoadedModule {
  const r = compileCached(src, t);
  if (!r.ok) throw new ModuleLoadError(src.source, formatDiagnostics(r.diagnostics));
  const m = r.module;
  const fns = reachable(m);
  const bad = unsupported(m, fns, symbolsFor(t.kernel, t.arch, t.config));
  if (bad.length > 0) throw new ModuleLoadError(src.source, bad.join('\n') + '\n');
  const isa = isaOf(t.arch);
  const textBase = isa.moduleBase + BigInt(index) * MODULE_SPAN;
  const dataBase = textBase + DATA_OFFSET;
  const functions = new Map<string, CFunc>();
  for (const f of fns) {
    const { slots, size } = frameLayout(f);
    functions.set(f.name, { module: m.name, func: f, slots, frameSize: size });
  }
  // Static data in declaration order, then string literals.
  let at = dataBase;
  const globals = new Map<string, CGlobal>();
  for (const g of m.globals) {
    if (g.extern) continue;
    at = alignUpBig(at, BigInt(Math.max(g.align, 1)));
    globals.set(g.name, { global: g, addr: at });
    at += BigInt(Math.max(g.size, 1));
  }
  const strings = new Map<number, bigint>();
  for (const s of m.strings) {
    strings.set(s.id, at);
    at += BigInt(s.bytes.length);
  }
  const probes: CProbe[] = m.probes.map((p) => {
    const g = globals.get(p.global)!;
    return {
      name: probeName(m.name, p.global, others.has(p.global)),
      module: m.name,
      global: p.global,
      kind: p.kind,
      addr: g.addr,
      fields: structFields(g.global.type),
      post: p.handlers.post_handler !== undefined || assignsPost(m, p.global),
      ...(p.symbolName !== undefined ? { symbol: p.symbolName } : {}),
    };
  });
  const text: ModuleText = {
    name: m.name,
    functions: fns.map((f) => ({
      name: f.name,
      ...(f.section === '.init.text' ? { init: true } : {}),
      raw: f.code.map((i) => ({ text: `${src.source}:${lineOf(i.span.file, i.span.start)}: ${i.op}`, len: C_INSN_LEN })),
    })),
  };
  return {
    name: m.name, source: src, program: m, textBase, dataBase, functions, globals, strings, dataEnd: at, probes, structs: collectStructs(m), text,
    warnings: r.warnings.length > 0 ? formatDiagnostics(r.warnings) : '',
  };
}


/** The module's memory as insmod lays it out: static data with its initializers and parameters, then string literals. */
export function moduleData(mod: LoadedModule, symbols: SymbolTable): DataObject[] {
  const { program: m, globals, strings } = mod;
  const fnAddr = (name: string): bigint => {
    // A function's address is known once the image is built; before, its slot's order decides it.
    const sym = symbols.lookup(name);
    return sym?.addr ?? 0n;
  };
  const valueOf = (v: StaticValue): bigint => {
    if (v.k === 'int') return v.value;
    const t = v.target;
    const base = t.k === 'global' ? (globals.get(t.name)?.addr ?? 0n) : t.k === 'string' ? (strings.get(Number(t.name)) ?? 0n) : fnAddr(t.name);
    return base + BigInt(v.offset);
  };
  const data: DataObject[] = [];
  for (const { global: g, addr } of globals.values()) {
    const bytes = new Array<number>(Math.max(g.size, 1)).fill(0);
    for (const i of g.init) {
      const size = sizeOf(i.type) ?? 8;
      intBytes(valueOf(i.value), size).forEach((b, k) => (bytes[i.offset + k] = b));
    }
    data.push({ addr, size: bytes.length, kind: g.isConst ? 'rodata' : 'data', bytes });
  }
  for (const s of m.strings) data.push({ addr: strings.get(s.id)!, size: s.bytes.length, kind: 'rodata', bytes: s.bytes });
  applyParams(m, mod.source.params ?? {}, globals, data, mod.dataEnd);
  return data;
}

/**
 * insmod's parameters (kernel/params.c): a string is copied into its buffer, a charp points at a
 * copy, numbers and booleans are parsed. checkParams (src/c) has refused what cannot be taken.
 */
function applyParams(m: CheckedModule, params: Readonly<Record<string, string>>, globals: ReadonlyMap<string, CGlobal>, data: DataObject[], end: bigint): void {
  let extra = end;
  for (const p of m.params) {
    const value = Object.hasOwn(params, p.name) ? params[p.name]! : undefined;
    if (value === undefined) continue;
    const g = globals.get(p.variable);
    if (g === undefined) continue;
    const obj = data.find((d) => d.addr === g.addr)!;
    const bytes = obj.bytes as number[];
    const utf8 = [...new TextEncoder().encode(value)];
    switch (p.kind) {
      case 'string': {
        const n = Math.min(utf8.length, (p.maxlen ?? bytes.length) - 1);
        for (let i = 0; i < bytes.length; i++) bytes[i] = i < n ? utf8[i]! : 0;
        break;
      }
      case 'charp': {
        const addr = extra;
        data.push({ addr, size: utf8.length + 1, kind: 'rodata', bytes: [...utf8, 0] });
        extra += BigInt(utf8.length + 1);
        intBytes(addr, 8).forEach((b, i) => (bytes[i] = b));
        break;
      }
      case 'bool':
      case 'invbool': {
        const on = /^([yY1]|on)$/.test(value);
        bytes[0] = (p.kind === 'bool') === on ? 1 : 0;
        break;
      }
      default: {
        const n = /^[-+]?0[xX]/.test(value) ? BigInt(value.replace(/^([-+]?)0[xX]/, '$10x')) : BigInt(value.replace(/^\+/, ''));
        intBytes(n, Math.min(bytes.length, 8)).forEach((b, i) => (bytes[i] = b));
      }
    }
  }
}

/** The module's name as kbuild derives it from the file. */
export function cModuleName(src: Pick<CModuleSource, 'source'>): string {
  return moduleNameOf(src.source);
}

/**
 * A scenario's modules as the kernel image builds them: C modules become text with one
 * instruction per C instruction; the others are as they are.
 */
export function moduleTexts<M extends { readonly name: string }>(modules: readonly M[], t: BuildTarget, first = 0): (M | ModuleText)[] {
  return modules.map((m, i) => (isCModule(m) ? loadModule(m, first + i, t).text : m));
}

export const defaultTarget = (s: { kernel?: KernelVersion; arch?: Arch; config?: BuildConfig }): BuildTarget => ({
  arch: s.arch ?? 'x86_64',
  kernel: s.kernel ?? DEFAULT_KERNEL,
  config: s.config ?? {},
});
