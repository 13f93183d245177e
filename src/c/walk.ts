import type { Expr, Instr, LValue } from './program.ts';

// One walk over a checked function's code: every expression, in source order, nested statement
// expressions and KUnit check operands included. The checker (which functions the code names) and
// the loader (which types and natives it needs) both read the code through it.

/** Calls `each` on every expression of `code` (nested statement expressions included). */
export function walkCode(code: readonly Instr[], each: (e: Expr) => void): void {
  const lv = (l: LValue): void => {
    if (l.k === 'deref') ex(l.ptr);
    else if (l.k === 'member') lv(l.base);
    else if (l.k === 'temp') ex(l.value);
  };
  const ex = (e: Expr): void => {
    each(e);
    switch (e.k) {
      case 'load':
      case 'decay':
      case 'addr':
        return lv(e.lv);
      case 'cast':
      case 'unary':
        return ex(e.operand);
      case 'binary':
      case 'cmp':
      case 'logical':
      case 'comma':
      case 'ptrdiff':
        ex(e.left);
        return ex(e.right);
      case 'ptradd':
        ex(e.ptr);
        return ex(e.index);
      case 'cond':
        ex(e.cond);
        ex(e.then);
        return ex(e.else);
      case 'assign':
        lv(e.target);
        return ex(e.value);
      case 'compound':
        lv(e.target);
        return ex(e.value);
      case 'incdec':
        return lv(e.target);
      case 'call':
        ex(e.callee);
        return e.args.forEach(ex);
      case 'builtin':
        e.args.forEach(ex);
        if (e.kunit) {
          e.kunit.operands.forEach(ex);
          e.kunit.message.forEach(ex);
          ex(e.kunit.test);
        }
        return;
      case 'stmt-expr':
        walkCode(e.code, each);
        if (e.result) ex(e.result);
        return;
      default:
        return;
    }
  };
  for (const i of code) {
    switch (i.op) {
      case 'expr':
        ex(i.e);
        break;
      case 'init':
        for (const it of i.items) ex(it.value);
        break;
      case 'branch-false':
        ex(i.cond);
        break;
      case 'switch':
        ex(i.value);
        break;
      case 'return':
        if (i.value) ex(i.value);
        break;
      default:
        break;
    }
  }
}
