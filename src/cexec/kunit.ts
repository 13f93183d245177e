import type { Expr } from '../c/program.ts';
import { lineOf } from '../c/source.ts';
import { unqual } from '../c/types.ts';
import { evaluateCheck } from '../kunit/check.ts';
import type { DomainEvent } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import type { Here } from '../kprobes/here.ts';
import type { Interp, Val } from './eval.ts';
import { bytesInt, EMPTY_C, initHex, intBytes } from './memory.ts';
import type { Native, NativeCtx } from './natives.ts';
import type { FormatArg } from './vsprintf.ts';

// KUnit in the executor (`kprobesim kunit`, lib/kunit): what a KUNIT_EXPECT_*/KUNIT_ASSERT_* does
// when the code reaches it (src/kunit/check.ts decides pass or fail; a failure is a `kunit.fail`
// event), kunit_info()/kunit_skip() (`kunit.log`, `kunit.skip`), an assertion or a skip that ends
// the test thread's call (kunit_try_catch_throw(): `kunit.throw`, the task's C frames of the call
// are dropped), and kunit_init_test()'s struct kunit (`kunit.init`). The KUnit runner
// (src/kunit/simulated.ts) reads these events back for each call.

/** kunit_try_catch_throw(): the step ends, and with it the call (its events are in `post`). */
export class KunitThrow {}

const int = (v: Val): bigint => (typeof v === 'bigint' ? v : bytesInt(v, false));

/** Where the check stands in its source: what the runner finds the compiled check by. */
export function checkPlace(e: Expr): { file: string; line: number; col: number } {
  const f = e.span.file;
  const line = lineOf(f, e.span.start);
  return { file: f.name, line, col: e.span.start - (f.lineStarts[line - 1] ?? 0) + 1 };
}

/** A value as `kunit.fail` carries it: a decimal integer, a string as JSON, or "null". */
export function encodeCheckValue(v: bigint | string | null): string {
  return typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}

export function decodeCheckValue(s: string): bigint | string | null {
  if (s === 'null') return null;
  return s.startsWith('"') ? (JSON.parse(s) as string) : BigInt(s);
}

export interface KunitHostEnv {
  readonly cpu: number;
  readonly pid: number;
  readonly ctx: 'task' | 'handler';
  readonly post: DomainEvent[];
  readString(addr: bigint, max: number): string | undefined;
  format(fmt: string, args: readonly FormatArg[]): string;
}

/** The interpreter's host.kunit hook: a KUNIT_EXPECT_* or KUNIT_ASSERT_* reached. */
export function kunitCheck(env: KunitHostEnv, e: Extract<Expr, { k: 'builtin' }>, it: Interp): bigint {
  const check = e.kunit!;
  // Every operand is evaluated (a shared read ends the step and the instruction resumes from its
  // memo) before anything is emitted, so the events are made once.
  const test = int(it.eval(check.test));
  const outcome = evaluateCheck(check, {
    value: (x) => int(it.eval(x)),
    string: (addr) => env.readString(addr, 4096) ?? null,
    format: (fmt, args) => env.format(env.readString(fmt, 1024) ?? '', args.map((a) => ({ value: int(it.eval(a)), signed: isSigned(a) }))),
  });
  if (outcome.passed) return 0n;
  env.post.push({
    type: 'kunit.fail', cpu: env.cpu, pid: env.pid, test: toHex(test), assert: check.assert, ...checkPlace(e),
    values: outcome.values.map(encodeCheckValue), message: outcome.message,
  });
  // An assertion ends the test thread; a handler cannot be left that way, so there it only fails.
  if (check.assert && env.ctx === 'task') {
    env.post.push({ type: 'kunit.throw', cpu: env.cpu, pid: env.pid });
    throw new KunitThrow();
  }
  return 0n;
}

function isSigned(e: Expr): boolean {
  const t = unqual(e.type);
  return t.kind === 'int' && t.signed;
}

function formatFrom(n: NativeCtx, a: readonly Val[], types: Parameters<Native>[2], fmtAt: number): string {
  const fmt = n.readString(int(a[fmtAt]!), 1024) ?? '';
  return n.format(fmt, a.slice(fmtAt + 1).map((v, i) => {
    const t = unqual(types[fmtAt + 1 + i]!);
    return { value: int(v), signed: t.kind === 'int' && t.signed };
  }));
}

/** KUnit's functions the module calls: kunit_info/warn/err, kunit_skip/mark_skipped, kunit_kmalloc. */
export const KUNIT_NATIVES: Readonly<Record<string, Native>> = {
  __sim_kunit_log: (n, a, t) => {
    n.post.push({ type: 'kunit.log', cpu: n.cpu, pid: n.pid, test: toHex(int(a[0]!)), text: formatFrom(n, a, t, 2) });
    return { value: 0n };
  },
  __sim_kunit_skip: (n, a, t) => {
    n.post.push({ type: 'kunit.skip', cpu: n.cpu, pid: n.pid, test: toHex(int(a[0]!)), reason: formatFrom(n, a, t, 2) });
    // kunit_skip() ends the test thread as a failed assertion does; kunit_mark_skipped() goes on.
    if (int(a[1]!) !== 0n && n.ctx === 'task') {
      n.post.push({ type: 'kunit.throw', cpu: n.cpu, pid: n.pid });
      throw new KunitThrow();
    }
    return { value: 0n };
  },
};

/**
 * kunit_init_test(): a struct kunit named after the case, zeroed but for its name (a copy of it
 * follows the struct in the same block), kzalloc'd from the kmalloc area.
 */
export function kunitInitTest(h: Here, heapArea: bigint, name: string): DomainEvent[] {
  const { c, pid, setup, w } = h;
  const def = setup.c?.modules.map((m) => m.structs.get('kunit')).find((d) => d !== undefined);
  const size = def?.size ?? 32;
  const nameAt = def?.members?.find((m) => m.name === 'name')?.offset ?? 8;
  const at = heapArea + BigInt((w.c ?? EMPTY_C).heap);
  const text = [...new TextEncoder().encode(name)];
  const bytes = new Array<number>(size).fill(0);
  intBytes(at + BigInt(size), 8).forEach((b, i) => (bytes[nameAt + i] = b));
  bytes.push(...text, 0);
  return [
    { type: 'mem.alloc', cpu: c.id, pid, addr: toHex(at), size: bytes.length, kind: 'heap', init: initHex(bytes), site: 'kunit_init_test' },
    { type: 'kunit.init', cpu: c.id, pid, test: toHex(at), name },
  ];
}
