import type { Expr, Func, Instr, LValue } from '../c/program.ts';
import type { CSetup } from '../cexec/csetup.ts';

// What the partial-order reduction may take as private in a module's C code (./visibility.ts,
// docs/explore.md "Preempting only where it can matter"), read from the checked program alone.
//
// An instruction is LOCAL when running it reads and writes nothing but its own frame's locals:
// constants, arithmetic, comparisons, jumps, addresses of globals and strings (no access), and
// loads and stores of locals. Anything else is not: a load or store of a global, a string or
// through a pointer (module memory by address), a call (natives take locks, print, allocate,
// read the clock; module functions push frames), a builtin, a statement expression, a return
// (the caller, or the handler's exit, gets the value). The interpreter (src/cexec/eval.ts)
// runs such an instruction to its end in one step: it never reaches an interleaving point.
//
// A frame's locals are private to the frame only while nobody holds their address: a module
// that takes a local's address anywhere (`&x`, an array that decays, __builtin_frame_address)
// could hand it to another CPU, so none of its instructions counts as local (`framesEscape`).
//
// Whole runs stay opaque (every step visible) when the module reads what the schedule decides
// besides the order of steps: the clock (jiffies, ktime_get*) or the random generator (drawn from
// the event count, src/cexec/step.ts randomOf), whose values another order of invisible steps
// would change; or when it can register a probe after its init returned (a register_* named
// outside __init code): the addresses a probe can be armed at must be known (see visibility.ts).

/** Natives whose value depends on the logical clock or the event count (src/cexec/natives.ts). */
export const CLOCKED_NATIVES: ReadonlySet<string> = new Set([
  'ktime_get', 'ktime_get_ns', 'ktime_get_boottime_ns',
  'get_random_u32', 'get_random_u64', 'get_random_long', 'get_random_u32_below', 'prandom_u32', 'get_random_int',
]);
/** Kernel variables the model computes from the clock (src/cexec/step.ts virtualMemory). */
const CLOCKED_GLOBALS: ReadonlySet<string> = new Set(['jiffies', 'jiffies_64']);
/** The kprobes calls that can put a probe at a new address (src/cexec/natives.ts kprobesCall). */
const REGISTERS: ReadonlySet<string> = new Set(['register_kprobe', 'register_kretprobe', 'register_kprobes', 'register_kretprobes', 'register_jprobe']);

export interface CAnalysis {
  /** Per C function, per instruction of its C code: whether it is local (see above). */
  readonly local: ReadonlyMap<string, readonly boolean[]>;
  /** Some function takes a local's address: no instruction counts as local. */
  readonly framesEscape: boolean;
  /** Why every step of a run with these modules must count as visible, or null. */
  readonly opaque: string | null;
}

const localRooted = (lv: LValue): boolean => lv.k === 'local' || (lv.k === 'member' && localRooted(lv.base));

/** An address computed without reading memory and not of a local. */
function pureAddr(lv: LValue): boolean {
  switch (lv.k) {
    case 'global':
    case 'string':
      return true;
    case 'member':
      return pureAddr(lv.base);
    case 'deref':
      return isLocal(lv.ptr);
    case 'local':
    case 'temp':
      return false;
  }
}

/** Whether evaluating `e` reads and writes only the frame's own locals. */
function isLocal(e: Expr): boolean {
  switch (e.k) {
    case 'const':
    case 'func':
      return true;
    case 'load':
      return localRooted(e.lv);
    case 'addr':
    case 'decay':
      return pureAddr(e.lv);
    case 'cast':
    case 'unary':
      return isLocal(e.operand);
    case 'binary':
    case 'cmp':
    case 'logical':
    case 'comma':
    case 'ptrdiff':
      return isLocal(e.left) && isLocal(e.right);
    case 'ptradd':
      return isLocal(e.ptr) && isLocal(e.index);
    case 'cond':
      return isLocal(e.cond) && isLocal(e.then) && isLocal(e.else);
    case 'assign':
    case 'compound':
      return localRooted(e.target) && isLocal(e.value);
    case 'incdec':
      return localRooted(e.target);
    case 'call':
    case 'builtin':
    case 'stmt-expr':
      return false;
  }
}

export function isLocalInstr(i: Instr): boolean {
  switch (i.op) {
    case 'expr':
      return isLocal(i.e);
    case 'init':
      return i.items.every((it) => isLocal(it.value));
    case 'jump':
      return true;
    case 'branch-false':
      return isLocal(i.cond);
    case 'switch':
      return isLocal(i.value);
    case 'return':
      return false;
  }
}

/** Every expression of a function's code: its sub-expressions, statement expressions' and KUnit checks' included. */
function* exprsOf(code: readonly Instr[]): Generator<Expr> {
  for (const i of code) {
    if (i.op === 'expr') yield* subExprs(i.e);
    else if (i.op === 'init') for (const it of i.items) yield* subExprs(it.value);
    else if (i.op === 'branch-false') yield* subExprs(i.cond);
    else if (i.op === 'switch') yield* subExprs(i.value);
    else if (i.op === 'return' && i.value !== undefined) yield* subExprs(i.value);
  }
}

function* lvalueExprs(lv: LValue): Generator<Expr> {
  if (lv.k === 'deref') yield* subExprs(lv.ptr);
  else if (lv.k === 'member') yield* lvalueExprs(lv.base);
  else if (lv.k === 'temp') yield* subExprs(lv.value);
}

function* subExprs(e: Expr): Generator<Expr> {
  yield e;
  switch (e.k) {
    case 'const':
    case 'func':
      return;
    case 'load':
    case 'addr':
    case 'decay':
      return yield* lvalueExprs(e.lv);
    case 'cast':
    case 'unary':
      return yield* subExprs(e.operand);
    case 'binary':
    case 'cmp':
    case 'logical':
    case 'comma':
    case 'ptrdiff':
      yield* subExprs(e.left);
      return yield* subExprs(e.right);
    case 'ptradd':
      yield* subExprs(e.ptr);
      return yield* subExprs(e.index);
    case 'cond':
      yield* subExprs(e.cond);
      yield* subExprs(e.then);
      return yield* subExprs(e.else);
    case 'assign':
    case 'compound':
      yield* lvalueExprs(e.target);
      return yield* subExprs(e.value);
    case 'incdec':
      return yield* lvalueExprs(e.target);
    case 'call':
      yield* subExprs(e.callee);
      for (const a of e.args) yield* subExprs(a);
      return;
    case 'builtin':
      for (const a of e.args) yield* subExprs(a);
      if (e.kunit !== undefined) for (const x of [...e.kunit.operands, ...e.kunit.message, e.kunit.test]) yield* subExprs(x);
      return;
    case 'stmt-expr':
      yield* exprsOf(e.code);
      if (e.result !== undefined) yield* subExprs(e.result);
      return;
  }
}

/** The lvalues an expression names directly (a load's, a store's target, an address's). */
function lvaluesOf(e: Expr): LValue[] {
  switch (e.k) {
    case 'load':
    case 'addr':
    case 'decay':
      return [e.lv];
    case 'assign':
    case 'compound':
    case 'incdec':
      return [e.target];
    default:
      return [];
  }
}

function globalsNamed(lv: LValue): string[] {
  if (lv.k === 'global') return [lv.name];
  if (lv.k === 'member') return globalsNamed(lv.base);
  return [];
}

/** Functions named in `f` (called, or taken as a pointer). */
function namedFunctions(f: Func): Set<string> {
  const out = new Set<string>();
  for (const e of exprsOf(f.code)) if (e.k === 'func') out.add(e.name);
  return out;
}

export function analyseC(cs: CSetup): CAnalysis {
  const local = new Map<string, boolean[]>();
  const byName = new Map<string, Func>();
  for (const m of cs.modules) for (const f of m.program.functions) byName.set(f.name, f);
  // What can run: the module's own functions, and the header helpers they name (a header's
  // inline functions that nothing names, register_kprobes() say, never run).
  const reach = (roots: readonly Func[], into: (f: Func) => boolean = () => true): Func[] => {
    const seen = new Set(roots.map((f) => f.name));
    const todo = [...roots];
    for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
      for (const n of namedFunctions(f)) {
        const g = byName.get(n);
        if (g !== undefined && !seen.has(n) && into(g)) seen.add(n), todo.push(g);
      }
    }
    return [...seen].flatMap((n) => byName.get(n) ?? []);
  };
  const own = [...byName.values()].filter((f) => !f.header);
  let framesEscape = false;
  let opaque: string | null = null;
  for (const f of reach(own)) {
    for (const e of exprsOf(f.code)) {
      if ((e.k === 'addr' || e.k === 'decay') && localRooted(e.lv)) framesEscape = true;
      if (e.k === 'builtin' && e.name === '__builtin_frame_address') framesEscape = true;
      if (e.k === 'func' && CLOCKED_NATIVES.has(e.name)) opaque ??= `${f.name} calls ${e.name}() (the clock or the random generator)`;
      for (const lv of lvaluesOf(e)) for (const g of globalsNamed(lv)) if (CLOCKED_GLOBALS.has(g)) opaque ??= `${f.name} reads ${g} (the clock)`;
    }
  }
  // Code that can run after init returned: what the functions not in __init reach, but not
  // through __init functions (their text is freed then: running it oopses, R96).
  const notInit = (f: Func) => f.section !== '.init.text';
  for (const f of reach(own.filter(notInit), notInit)) {
    for (const n of namedFunctions(f)) if (REGISTERS.has(n)) opaque ??= `${f.name} (not __init code) names ${n}: a probe may be registered after the modules initialised`;
  }
  for (const [name, cf] of cs.functions) local.set(name, cf.func.code.map(isLocalInstr));
  return { local, framesEscape, opaque };
}
