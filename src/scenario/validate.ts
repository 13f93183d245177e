import { z } from 'zod';
import {
  atLeast,
  DEFAULT_KERNEL,
  KERNEL_VERSIONS,
  RENAMED,
  ARCHES,
  symbolsFor,
  symbolsWithModules,
  type FunctionSymbol,
  type KernelVersion,
  type SymbolTable,
} from '../kernel/index.ts';
import { InputError, InputErrors } from '../errors.ts';
import { checkTemplate } from '../kprobes/printk-format.ts';
import { isRegisterName, REGISTER_NAMES } from '../tracefs/registers.ts';
import { scenarioSchema } from './schema.ts';
import { ModuleLoadError, moduleTexts } from '../cexec/load.ts';
import { checkNesting } from './nesting.ts';
import { checkExpectations } from '../expect/monitor.ts';
import type { Scenario, TaskOp } from './types.ts';

// Turns untrusted JSON into a Scenario, or an InputError naming the field path
// (`scenario.probes[2].symbol: unknown symbol "kernel_clon"; did you mean "kernel_clone"?`).
// Everything a run could trip over is caught here, before the first event.

type Path = readonly PropertyKey[];

export function fieldPath(path: Path, root = 'scenario'): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${String(k)}`), root);
}

function zodMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.message.replace(/^Invalid input: /, '');
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
      // A union's own message where it has one (an expectation's), else the generic one.
      return issue.message !== 'Invalid input' ? issue.message : 'not one of the allowed forms';
    default:
      return issue.message;
  }
}

function valueAt(raw: unknown, path: Path): unknown {
  let v = raw;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** The other names a function had in other releases, nearest first. */
function renamesOf(name: string): string[] {
  const out: string[] = [];
  for (let n = RENAMED.get(name); n !== undefined && !out.includes(n); n = RENAMED.get(n)) out.push(n);
  const back = (to: string) => [...RENAMED].filter(([, t]) => t === to).map(([from]) => from);
  for (let froms = back(name); froms.length > 0; ) {
    out.push(...froms);
    froms = froms.flatMap(back).filter((f) => !out.includes(f));
  }
  return out;
}

function unknownSymbol(symbols: SymbolTable, name: string, version: KernelVersion): string {
  // A function renamed between releases is suggested under the name this release uses, following
  // renames in either direction (do_fork → _do_fork → kernel_clone).
  const renamed = renamesOf(name).find((n) => symbols.lookup(n) !== undefined);
  // sys_openat and friends: since v4.17 (x86_64) and on arm64 the symbol is the wrapper.
  const wrapped = name.startsWith('sys_') ? [`__x64_${name}`, `__arm64_${name}`].find((n) => symbols.lookup(n) !== undefined) : undefined;
  const hint = renamed ?? wrapped ?? symbols.suggest(name);
  const suggestion = hint !== undefined ? `; did you mean "${hint}"?` : '';
  // A name of another release (e.g. _do_fork before v5.10) says which kernel has it.
  const arch = symbols.image.arch;
  const elsewhere = KERNEL_VERSIONS.filter((v) => v !== version && symbolsFor(v, arch).lookup(name) !== undefined);
  if (elsewhere.length > 0) {
    return `unknown symbol "${name}" in kernel ${version} (kernel ${elsewhere.join(', ')} ${elsewhere.length > 1 ? 'have' : 'has'} it; set "kernel")${suggestion}`;
  }
  // An x86_64 name on arm64 (or the other way round) says which architecture has it.
  const other = ARCHES.find((a) => a !== arch && symbolsFor(version, a).lookup(name) !== undefined);
  if (other !== undefined) return `unknown symbol "${name}" on ${arch} (the ${other} image has it; set "arch")${suggestion}`;
  return `unknown symbol "${name}"${suggestion}`;
}

/** At most this many errors are reported for one scenario; the rest are counted. */
export const MAX_REPORTED_ERRORS = 20;

/** Thrown inside validateScenario once it has found more errors than it reports. */
class TooManyErrors extends Error {}

/** One InputError for one problem; InputErrors (one line each) for several. */
function reported(errors: readonly InputError[], more: string | null): InputError {
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  const all = more === null ? shown : [...shown, new InputError('scenario', more)];
  return all.length === 1 ? all[0]! : new InputErrors(all);
}

export function validateScenario(raw: unknown, image?: SymbolTable): Scenario {
  // Before zod, which recurses: a value nested thousands of levels deep would overflow the stack.
  checkNesting(raw);
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const errors = issues.slice(0, MAX_REPORTED_ERRORS).map((issue) => {
      const path = issue.path;
      let message = zodMessage(issue);
      // A discriminated union that fails on its tag: name the tags that exist.
      if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
        const got = valueAt(raw, path);
        message = `${got === undefined ? 'missing' : `unknown kind ${JSON.stringify(got)}`} (expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')})`;
      }
      return new InputError(fieldPath(path), message);
    });
    const more = issues.length - errors.length;
    throw reported(errors, more > 0 ? `${more} more error${more > 1 ? 's' : ''} not shown` : null);
  }
  // "$schema" is for editors (completion, help): accepted and dropped.
  const { $schema: _editorSchema, ...s } = parsed.data as Scenario & { $schema?: string };
  // Every problem found is reported (up to MAX_REPORTED_ERRORS), each with its field path.
  const errors: InputError[] = [];
  try {
    checkScenario(s, image, (path, what) => {
      errors.push(new InputError(fieldPath(path), what));
      if (errors.length > MAX_REPORTED_ERRORS) throw new TooManyErrors();
    });
  } catch (e) {
    if (!(e instanceof TooManyErrors)) throw e;
    throw reported(errors, `more errors not shown (stopped after ${MAX_REPORTED_ERRORS})`);
  }
  // The expectations are typed against the state's names for this scenario (its probe names).
  errors.push(...checkExpectations(s).errors);
  if (errors.length > 0) throw reported(errors, null);
  return s;
}

/** The checks the schema cannot make; `err` records a problem and the checks go on. */
function checkScenario(s: Scenario, image: SymbolTable | undefined, err: (path: Path, what: string) => void): void {
  const version = s.kernel ?? DEFAULT_KERNEL;
  // Module names and function names must not clash with each other or with kernel symbols.
  const moduleNames = new Set<string>();
  if (s.config !== undefined && (s.arch ?? 'x86_64') !== 'x86_64' && (s.config.ftrace || s.config.ibt || s.config.optprobes)) {
    err(['config'], `build options "ftrace", "ibt" and "optprobes" are modelled on x86_64 only (arch is ${s.arch})`);
    return;
  }
  const core = symbolsFor(version, s.arch ?? 'x86_64', s.config ?? {});
  (s.modules ?? []).forEach((m, i) => {
    if (moduleNames.has(m.name)) err(['modules', i, 'name'], `duplicate module name "${m.name}"`);
    moduleNames.add(m.name);
    m.functions.forEach((f, j) => {
      if (core.lookup(f.name) !== undefined) err(['modules', i, 'functions', j, 'name'], `"${f.name}" is already a kernel symbol`);
    });
    if (m.source !== undefined && m.code === undefined) err(['modules', i, 'code'], `the C source of "${m.source}" is missing (a scenario file's modules are read relative to it)`);
  });
  let symbols: SymbolTable;
  try {
    // A C module compiles into its text here: gcc's diagnostics are the error (src/cexec).
    const texts = (s.modules ?? []).map((m, i) => {
      try {
        return moduleTexts([m], { arch: s.arch ?? 'x86_64', kernel: version, config: s.config ?? {} }, i)[0]!;
      } catch (x) {
        if (x instanceof ModuleLoadError) {
          err(['modules', i, 'source'], `${m.source} does not compile:\n${x.diagnostics.trimEnd()}`);
          return { name: m.name, functions: [] };
        }
        throw x;
      }
    });
    symbols = image ?? symbolsWithModules(version, texts, s.arch ?? 'x86_64', s.config ?? {});
  } catch (e) {
    // The image builder names the problem (a duplicate function, an unknown callee); without
    // an image nothing else can be checked.
    err(['modules'], (e as Error).message.replace(/^kernel image: /, ''));
    return;
  }
  const isFunction = (name: string) => symbols.lookup(name)?.kind === 'func';
  const checkFn = (path: Path, name: string) => {
    const sym = symbols.lookup(name);
    if (sym === undefined) err(path, unknownSymbol(symbols, name, version));
    else if (sym.kind !== 'func') err(path, `"${name}" is data, not a function`);
  };

  const probeNames = new Set<string>();
  s.probes.forEach((p, i) => {
    if (probeNames.has(p.name)) err(['probes', i, 'name'], `duplicate probe name "${p.name}"`);
    probeNames.add(p.name);
    if (p.symbol === undefined && p.addr === undefined) err(['probes', i], 'give "symbol" or "addr"');
    if (p.symbol !== undefined && p.addr !== undefined) err(['probes', i], 'give "symbol" or "addr", not both (R21)');
    if (p.symbol !== undefined && symbols.lookup(p.symbol) === undefined) {
      err(['probes', i, 'symbol'], unknownSymbol(symbols, p.symbol, version));
    }
    const kret = p.kind === 'kretprobe';
    // R82: the jprobe API was disabled in v4.15 (and removed in v4.19).
    if (p.kind === 'jprobe') {
      if (version !== '4.14') err(['probes', i, 'kind'], `kernel ${version} has no jprobes (disabled in 4.15, removed in 4.19; kernel 4.14 has them)`);
      for (const field of ['pre', 'post', 'entry', 'maxactive'] as const) {
        if (p[field] !== undefined) err(['probes', i, field], `a jprobe has only "handler", the function it diverts into (R82)`);
      }
    }
    // R58: struct kprobe lost fault_handler in v5.14.
    if (p.fault_handler !== undefined && atLeast(version, '5.14')) {
      err(['probes', i, 'fault_handler'], `kernel ${version} has no fault_handler (removed in 5.14; kernels 4.14 and 5.10 have it)`);
    }
    for (const field of p.kind === 'jprobe' ? ([] as const) : kret ? (['pre', 'post'] as const) : (['entry', 'handler', 'maxactive'] as const)) {
      if (p[field] !== undefined) {
        err(['probes', i, field], kret ? `a kretprobe has "entry" and "handler", not "${field}" (R70)` : `"${field}" belongs to a kretprobe (add "kind": "kretprobe")`);
      }
    }
    for (const phase of ['pre', 'post', 'entry', 'handler'] as const) {
      p[phase]?.forEach((step, j) => {
        if (step.do === 'override_return') {
          const where = ['probes', i, phase, j, 'do'];
          if (phase !== 'pre') err(where, '"override_return" is only for a kprobe pre-handler (R46)');
          else if (!atLeast(version, '4.16')) err(where, `kernel ${version} has no override_function_with_return (added in 4.16; kernels 5.10 and 6.17 have it)`);
          else if (p.symbol === undefined || (p.offset ?? 0) !== 0) err(where, '"override_return" needs the probe on a function entry ("symbol" with offset 0), where the return address is on top of the stack');
          else if (j !== p.pre!.length - 1) err(where, '"override_return" ends the pre-handler: it must be the last step');
        }
        if (step.do === 'jump') {
          const where = ['probes', i, phase, j];
          if (phase !== 'pre' || p.kind !== undefined && p.kind !== 'kprobe') err([...where, 'do'], '"jump" is only for a kprobe pre-handler (R46)');
          else if (p.symbol === undefined || (p.offset ?? 0) !== 0) err([...where, 'do'], '"jump" needs the probe on a function entry ("symbol" with offset 0), where the stack is the call\'s own');
          else if (j !== p.pre!.length - 1) err([...where, 'do'], '"jump" ends the pre-handler: it must be the last step');
          checkFn([...where, 'fn'], step.fn);
          const target = symbols.lookup(step.fn);
          if (target?.kind === 'func' && target.effect !== undefined) err([...where, 'fn'], `${step.fn} forks or never returns: a call cannot go on in it`);
          if (target !== undefined && p.symbol !== undefined && target === symbols.lookup(p.symbol)) err([...where, 'fn'], `jumping to ${step.fn} would hit its own probe again, forever`);
        }
        if (step.do === 'set_reg') {
          const where = ['probes', i, phase, j, 'reg'];
          const arch = s.arch ?? 'x86_64';
          if (!isRegisterName(arch, step.reg)) err(where, `"${step.reg}" is not an ${arch} register (${REGISTER_NAMES[arch].slice(0, 8).join(', ')}, …)`);
          else if (CONTROL_REGS.has(step.reg)) err(where, `${step.reg} changes where execution goes: use "jump" or "override_return"`);
          else if (kret && phase === 'handler' && (step.reg === 'ax' || step.reg === 'x0')) err(where, 'the return value is set with "set_retval"');
        }
        if (step.do === 'set_data' && !(kret && (phase === 'entry' || phase === 'handler'))) {
          err(['probes', i, phase, j, 'do'], '"set_data" is only for a kretprobe entry_handler or return handler, which share the instance\'s data[] (R77)');
        }
        if (step.do === 'set_retval' && !(kret && phase === 'handler')) {
          err(['probes', i, phase, j, 'do'], '"set_retval" is only for a kretprobe return handler, where the return value is in regs->ax');
        }
        if (step.do === 'return' && phase !== 'entry' && phase !== 'pre') {
          err(['probes', i, phase, j, 'do'], '"return" is only for a pre-handler (R46) or a kretprobe entry_handler (R73)');
        }
        if (step.do === 'call') {
          checkFn(['probes', i, phase, j, 'fn'], step.fn);
          // A handler's call must return to the handler: do_exit never does.
          if (symbols.lookup(step.fn)?.kind === 'func' && (symbols.lookup(step.fn) as { effect?: string }).effect !== undefined) {
            err(['probes', i, phase, j, 'fn'], `${step.fn} cannot be called from a handler (it forks or never returns)`);
          }
        }
      });
    }
  });
  s.probes.forEach((p, i) => {
    for (const phase of ['pre', 'post', 'entry', 'handler'] as const) {
      p[phase]?.forEach((step, j) => {
        if (step.do === 'print') {
          // A step built for another arch (its #ifdef) is checked against that arch's registers.
          const arch = step.arch ?? s.arch ?? 'x86_64';
          const m = checkTemplate(step.text, probeNames, true, arch);
          if (m !== null) err(['probes', i, phase, j, 'text'], m);
          if ((phase !== 'handler' || p.kind === 'jprobe') && step.text.includes('{retval}')) {
            err(['probes', i, phase, j, 'text'], '{retval} is only known in a kretprobe return handler');
          }
          for (const m of step.text.matchAll(/\{reg:([A-Za-z0-9_]+)\}/g)) {
            if (!isRegisterName(arch, m[1]!)) err(['probes', i, phase, j, 'text'], `{reg:${m[1]}}: not an ${arch} register`);
          }
          if (phase !== 'post' && step.text.includes('{post_flags}')) {
            err(['probes', i, phase, j, 'text'], '{post_flags} is the third argument of a post_handler, only known there (R3)');
          }
          if (!(kretHandlerPhase(p, phase)) && /\{(data|elapsed)\}/.test(step.text)) {
            err(['probes', i, phase, j, 'text'], '{data} and {elapsed} are only known in a kretprobe entry_handler or return handler (R77)');
          }
        }
      });
    }
  });

  if (s.max_tasks !== undefined && s.tasks.length > s.max_tasks) {
    err(['max_tasks'], `${s.max_tasks} is fewer than the ${s.tasks.length} tasks the scenario starts with`);
  }
  const pids = new Set<number>();
  s.tasks.forEach((t, i) => {
    if (t.pid !== undefined) {
      if (pids.has(t.pid)) err(['tasks', i, 'pid'], `duplicate pid ${t.pid}`);
      pids.add(t.pid);
    }
    if (t.cpu !== undefined && t.cpu >= s.cpus) err(['tasks', i, 'cpu'], `cpu ${t.cpu} does not exist (cpus: ${s.cpus}, so 0 to ${s.cpus - 1})`);
    const checkProgram = (program: readonly TaskOp[], base: Path): void =>
      program.forEach((op, j) => {
        const at = [...base, j];
        switch (op.op) {
          case 'call':
            checkFn([...at, 'fn'], op.fn);
            if (!isFunction(op.fn)) return;
            if (op.args !== undefined) {
              // Only a C function takes arguments: the model's other code has no parameters.
              const owner = (symbols.lookup(op.fn) as FunctionSymbol).module;
              const cm = (s.modules ?? []).find((m) => m.name === owner && m.source !== undefined);
              if (cm === undefined) err([...at, 'args'], `${op.fn} is not a function of a module written in C: only those take arguments`);
            }
            if (op.fault !== undefined) {
              const fn = symbols.lookup(op.fn) as FunctionSymbol;
              const insn = fn.body.find((x) => x.off === op.fault!.at);
              const hex = `0x${op.fault.at.toString(16)}`;
              // Only an ordinary instruction touches memory here; a call or ret does not fault.
              if (insn === undefined) err([...at, 'fault', 'at'], `${fn.name}+${hex} is not the start of an instruction (starts: ${fn.body.map((x) => `0x${x.off.toString(16)}`).join(', ')})`);
              else if (insn.op.k !== 'insn') err([...at, 'fault', 'at'], `${fn.name}+${hex} is a ${insn.op.k}, which does not access memory; pick an ordinary instruction`);
            }
            break;
          case 'printk': {
            const m = checkTemplate(op.text, probeNames, false);
            if (m !== null) err([...at, 'text'], m);
            break;
          }
          case 'clear_kprobe':
          case 'register_kprobe':
          case 'unregister_kprobe':
          case 'enable_kprobe':
          case 'disable_kprobe':
            if (!probeNames.has(op.probe)) {
              err([...at, 'probe'], `no probe named "${op.probe}" in scenario.probes${probeNames.size ? ` (known: ${[...probeNames].join(', ')})` : ''}`);
            } else if (op.op === 'clear_kprobe' && (op.fields ?? ['addr']).includes('addr') && s.probes.find((p) => p.name === op.probe)?.addr !== undefined) {
              // R21: a probe given by address has nothing else to register with once addr is NULL.
              err([...at, 'fields'], `probe "${op.probe}" is given by addr: clearing addr would leave neither addr nor symbol (R21); clear only its flags ("fields": ["flags"])`);
            }
            break;
          case 'insmod':
          case 'rmmod':
            if (!moduleNames.has(op.module)) {
              err([...at, 'module'], `no module named "${op.module}" in scenario.modules${moduleNames.size ? ` (known: ${[...moduleNames].join(', ')})` : ''}`);
            }
            break;
          case 'register_kprobes':
          case 'unregister_kprobes':
            op.probes.forEach((probe, k) => {
              if (!probeNames.has(probe)) err([...at, 'probes', k], `no probe named "${probe}" in scenario.probes`);
            });
            break;
          case 'sleep':
          case 'kprobes_enabled':
            break;
          case 'kprobes_optimization':
            if (s.config?.optprobes !== true) err([...at, 'op'], 'the kprobes-optimization sysctl exists only with CONFIG_OPTPROBES ("config": {"optprobes": true})');
            break;
          case 'ftrace_failure':
            if (s.config?.ftrace !== true) err([...at, 'op'], 'ftrace can only fail on a kernel built with it ("config": {"ftrace": true})');
            break;
          case 'fork':
            checkProgram(op.program, [...at, 'program']);
            break;
        }
      });
    checkProgram(t.program, ['tasks', i, 'program']);
  });
}

/** The phases of a kretprobe that run with an instance (entry_handler, return handler). */
function kretHandlerPhase(p: { readonly kind?: string }, phase: string): boolean {
  return p.kind === 'kretprobe' && (phase === 'entry' || phase === 'handler');
}

/** Registers whose writing redirects execution (pt_regs ip/sp), which `set_reg` leaves alone. */
const CONTROL_REGS: ReadonlySet<string> = new Set(['ip', 'sp', 'pc', 'lr', 'x30', 'flags', 'pstate']);
