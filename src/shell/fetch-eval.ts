// Evaluating a probe's fetch arguments (§15.6) when it fires, over whatever a backend knows of
// the probed context: registers, the stack, memory and strings. Shared by every backend so that
// `$stackN`, `+off(…)`, `@SYM` and the string types mean the same thing everywhere.

import type { ArgType, FetchNode } from '../tracefs/index.ts';
import type { ArgValue } from './backend.ts';
import type { ProbedRegs as ProbedContext } from '../kprobes/regs.ts';

/** The probed context, as the probe handler sees it (defined with the model's register model). */
export type { ProbedRegs as ProbedContext } from '../kprobes/regs.ts';

/** An address or value, or null for a fault. */
export function evalFetch(node: FetchNode, ctx: ProbedContext): bigint | null {
  switch (node.kind) {
    case 'reg':
      return ctx.reg(node.reg);
    case 'stack-pointer':
      return ctx.sp;
    case 'stack':
      return ctx.load(ctx.sp + 8n * BigInt(node.index), false);
    case 'retval':
      return ctx.retval ?? 0n;
    case 'arg':
      return ctx.arg(node.index, node.fromEntry);
    case 'mem-addr':
    case 'mem-symbol': {
      const a = addressOf(node, ctx);
      return a === null ? null : ctx.load(a, false);
    }
    case 'imm':
      return node.value;
    case 'deref': {
      const base = evalFetch(node.inner, ctx);
      return base === null ? null : ctx.load(base + node.offset, node.user);
    }
    case 'comm':
    case 'imm-string':
      return 0n;
  }
}

/** Where the last fetch step reads (a string argument's bytes), or null for a fault. */
function addressOf(node: FetchNode, ctx: ProbedContext): bigint | null {
  switch (node.kind) {
    case 'deref': {
      const base = evalFetch(node.inner, ctx);
      return base === null ? null : base + node.offset;
    }
    case 'mem-addr':
      return node.address;
    case 'mem-symbol': {
      const a = node.symbol !== null ? ctx.symbolAddress(node.symbol) : undefined;
      return a === undefined ? null : a + (node.offset ?? 0n);
    }
    default:
      return evalFetch(node, ctx);
  }
}

export function evalArg(node: FetchNode, type: ArgType, ctx: ProbedContext): ArgValue {
  const el = type.kind === 'array' ? type.element : type;
  if (el.kind !== 'string') return evalFetch(node, ctx) ?? 0n;
  if (node.kind === 'comm') return ctx.comm;
  if (node.kind === 'imm-string') return node.value;
  const user = el.name === 'ustring' || (node.kind === 'deref' && node.user);
  const addr = addressOf(node, ctx);
  return addr === null ? null : ctx.loadString(BigInt.asUintN(64, addr), user);
}
