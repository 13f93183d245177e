// Example tests for the `kprobe_events` grammar (spec §15, §18, §21–§22). Expected error keys and
// caret columns are written in the selftest's caret notation ('^' marks the column) and come from
// the spec text or from tools/testing/selftests/ftrace/test.d/kprobe/kprobe_syntax_errors.tc; where
// a case is derived from the kernel source rather than the spec, the test name says so.

import { describe, expect, it } from 'vitest';
import { renderProbe } from '../src/tracefs/canonical.ts';
import { ERROR_MESSAGES, ERRORS, Errno, type ErrorKey } from '../src/tracefs/errors.ts';
import { parseProbeCommand } from '../src/tracefs/grammar.ts';
import { simpleContext } from '../src/tracefs/simple-context.ts';
import type { BtfFuncProto, BtfType, ParseContext, ParseResult, ProbeDefinition } from '../src/tracefs/types.ts';

const SYMBOLS = [
  'vfs_read',
  'kfree',
  'kernel_clone',
  'do_exit',
  'do_sys_openat2',
  'foo.isra.0',
  'dup_sym',
  { name: 'dup_sym', module: 'mymod' },
  { name: 'mod_func', module: 'mymod' },
  'a'.repeat(70),
];
const X86 = simpleContext({ symbols: SYMBOLS, modules: ['mymod'] });
const ARM64 = simpleContext({ arch: 'arm64', symbols: SYMBOLS, modules: ['mymod'] });

// A small BTF world: vfs_read(struct file *file, char *buf, size_t count, loff_t *pos) → ssize_t.
const U32: BtfType = { kind: 'int', bits: 32, signed: false };
const U64: BtfType = { kind: 'int', bits: 64, signed: false };
const S64: BtfType = { kind: 'int', bits: 64, signed: true };
const CHAR: BtfType = { kind: 'int', bits: 8, signed: false };
const QSTR: BtfType = { kind: 'struct', name: 'qstr', members: [{ name: 'name', type: { kind: 'ptr', target: CHAR }, bitOffset: 64 }] };
const DENTRY: BtfType = { kind: 'struct', name: 'dentry', members: [{ name: 'd_name', type: QSTR, bitOffset: 256 }] };
const PATH: BtfType = { kind: 'struct', name: 'path', members: [{ name: 'dentry', type: { kind: 'ptr', target: DENTRY }, bitOffset: 64 }] };
const FILE: BtfType = {
  kind: 'struct',
  name: 'file',
  members: [
    { name: 'f_mode', type: U32, bitOffset: 96 },
    { name: 'f_flags', type: U32, bitOffset: 384 },
    { name: 'f_path', type: PATH, bitOffset: 512 },
  ],
};
const VFS_READ: BtfFuncProto = {
  returnType: S64,
  params: [
    { name: 'file', type: { kind: 'ptr', target: FILE } },
    { name: 'buf', type: { kind: 'ptr', target: CHAR } },
    { name: 'count', type: U64 },
    { name: 'pos', type: { kind: 'ptr', target: S64 } },
  ],
};
const KFREE: BtfFuncProto = { returnType: null, params: [{ name: 'objp', type: { kind: 'ptr', target: null } }] };
const BTF = simpleContext({ symbols: SYMBOLS, modules: ['mymod'], btf: { vfs_read: VFS_READ, kfree: KFREE } });

function caret(s: string): { cmd: string; pos: number } {
  const pos = s.indexOf('^');
  if (pos < 0) throw new Error(`no caret in ${s}`);
  return { cmd: s.slice(0, pos) + s.slice(pos + 1), pos };
}

function parse(cmd: string, ctx: ParseContext = X86): ParseResult {
  return parseProbeCommand(cmd, ctx);
}

/** Expect an error_log error with the caret where '^' is. */
function expectError(withCaret: string, key: ErrorKey, opts: { ctx?: ParseContext; errno?: number } = {}): void {
  const { cmd, pos } = caret(withCaret);
  const r = parse(cmd, opts.ctx);
  if (r.ok || r.error === null) throw new Error(`expected ${key} for ${cmd}, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  expect({ key: r.error.key, offset: r.error.offset }).toEqual({ key, offset: pos });
  expect(r.error.message).toBe(ERROR_MESSAGES[key]);
  expect(r.error.errno).toBe(opts.errno ?? Errno.EINVAL);
}

function expectSilent(cmd: string, reason: string, ctx: ParseContext = X86, errno: number = Errno.EINVAL): void {
  const r = parse(cmd, ctx);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error).toBeNull();
  if (r.error !== null) return;
  expect(r.reason).toBe(reason);
  expect(r.errno).toBe(errno);
}

function define(cmd: string, ctx: ParseContext = X86): ProbeDefinition {
  const r = parse(cmd, ctx);
  if (!r.ok) throw new Error(`expected ${cmd} to parse: ${r.error ? `${r.error.key}@${r.error.offset}` : r.reason}`);
  if (r.command.kind !== 'define') throw new Error(`expected a define for ${cmd}`);
  return r.command.probe;
}

describe('§22 ERRORS table', () => {
  it('has the 80 keys in code order', () => {
    expect(ERRORS.length).toBe(80);
    expect(ERRORS[0][0]).toBe('FILE_NOT_FOUND');
    expect(ERRORS[6][0]).toBe('BAD_MAXACT_TYPE');
    expect(ERRORS[39][0]).toBe('BAD_FETCH_ARG');
    expect(ERRORS[63][0]).toBe('NOSUP_BTFARG');
    expect(ERRORS[79][0]).toBe('TOO_MANY_EARGS');
  });
  it('prints messages verbatim, kernel typos included', () => {
    expect(ERROR_MESSAGES.BAD_VAR).toBe('Invalid $-valiable specified');
    expect(ERROR_MESSAGES.BAD_RETPROBE).toBe('Retprobe address must be an function entry');
    expect(ERROR_MESSAGES.IMMSTR_NO_CLOSE).toBe(`String is not closed with '"'`);
    expect(ERROR_MESSAGES.NO_RETVAL).toBe(`This function returns 'void' type`);
    expect(ERROR_MESSAGES.BAD_HYPHEN).toBe(`Failed to parse single hyphen. Forgot '>'?`);
    expect(ERROR_MESSAGES.NEED_STRING_TYPE).toBe('$comm and immediate-string only accepts string type');
  });
});

describe('§15.1 lines, comments, tokens', () => {
  it('R102: everything from the first # is a comment', () => {
    expect(define('p:ev vfs_read %ax # trailing comment').args).toHaveLength(1);
    expect(parse('# only a comment')).toEqual({ ok: true, command: { kind: 'noop' } });
  });
  it('R104: a line without tokens is a no-op', () => {
    expect(parse('')).toEqual({ ok: true, command: { kind: 'noop' } });
    expect(parse(' \t  ')).toEqual({ ok: true, command: { kind: 'noop' } });
  });
  it('R104/R160: tokens split at runs of blanks; the echoed command joins them with single spaces', () => {
    const r = parse('p\tvfs_read   %bad');
    expect(r.ok).toBe(false);
    if (r.ok || !r.error) return;
    expect(r.command).toBe('p vfs_read %bad');
    expect(r.error.offset).toBe(11);
  });
  it('R105: first character not p/r → -EINVAL, no error_log entry', () => {
    expectSilent('x vfs_read', 'not-a-probe-command');
    expectSilent('vfs_read p', 'not-a-probe-command');
  });
  it('R105: fewer than two tokens → -EINVAL, no error_log entry', () => {
    expectSilent('p', 'not-a-probe-command');
    expectSilent('r:myev', 'not-a-probe-command');
  });
});

describe('§15.2 head', () => {
  it('R106: p creates a kprobe, r a kretprobe', () => {
    expect(define('p vfs_read').kind).toBe('kprobe');
    expect(define('r vfs_read').kind).toBe('kretprobe');
  });
  it('R106: only the first character of the head is examined (pfoo == p)', () => {
    const d = define('pfoo vfs_read');
    expect(d.kind).toBe('kprobe');
    expect(d.event).toBe('p_vfs_read_0');
  });
});

describe('§15.3 group and event names', () => {
  it('R107: the group defaults to kprobes', () => {
    expect(define('p:myprobe vfs_read')).toMatchObject({ group: 'kprobes', event: 'myprobe' });
  });
  it('R107: evspec splits at the first / or, without one, at the first .', () => {
    expect(define('p:grp/ev vfs_read')).toMatchObject({ group: 'grp', event: 'ev' });
    expect(define('p:grp.ev vfs_read')).toMatchObject({ group: 'grp', event: 'ev' });
  });
  it('R107: groups may contain - and _', () => {
    expect(define('p:my-grp_1/ev vfs_read').group).toBe('my-grp_1');
  });
  it('R107: NO_GROUP_NAME at the group column', () => expectError('p:^/bar vfs_read', 'NO_GROUP_NAME'));
  it('R107: GROUP_TOO_LONG (length ≥ 64)', () => {
    expectError('p:^12345678901234567890123456789012345678901234567890123456789012345/bar vfs_read', 'GROUP_TOO_LONG');
    expectError(`p:^${'g'.repeat(64)}/bar vfs_read`, 'GROUP_TOO_LONG');
    expect(define(`p:${'g'.repeat(63)}/bar vfs_read`).group).toHaveLength(63);
  });
  it('R107: BAD_GROUP_NAME', () => {
    expectError('p:^foo.1/bar vfs_read', 'BAD_GROUP_NAME');
    expectError('p:^1grp/ev vfs_read', 'BAD_GROUP_NAME');
  });
  it('R108: an empty event after a separator generates the name', () => {
    expect(define('p:foo/ vfs_read')).toMatchObject({ group: 'foo', event: 'p_vfs_read_0' });
  });
  it('R108: NO_EVENT_NAME without a separator', () => expectError('p:^ vfs_read', 'NO_EVENT_NAME'));
  it('R108: EVENT_TOO_LONG (length ≥ 64) at the event column', () => {
    expectError('p:foo/^12345678901234567890123456789012345678901234567890123456789012345 vfs_read', 'EVENT_TOO_LONG');
    expectError(`p:^${'e'.repeat(64)} vfs_read`, 'EVENT_TOO_LONG');
    expect(define(`p:${'e'.repeat(63)} vfs_read`).event).toHaveLength(63);
  });
  it('R108: BAD_EVENT_NAME at the event column', () => {
    expectError('p:foo/^bar.1 vfs_read', 'BAD_EVENT_NAME');
    expectError('p:^1ev vfs_read', 'BAD_EVENT_NAME');
    expectError('p:grp/^my-ev vfs_read', 'BAD_EVENT_NAME');
  });
  it('R109: generated names use p/r, the symbol and the decimal offset', () => {
    expect(define('p vfs_read').event).toBe('p_vfs_read_0');
    expect(define('p vfs_read+0x10').event).toBe('p_vfs_read_16');
    expect(define('r do_sys_openat2').event).toBe('r_do_sys_openat2_0');
  });
  it('R109: a %return kretprobe gets the r_ prefix', () => {
    expect(define('p vfs_read%return').event).toBe('r_vfs_read_0');
  });
  it('R109: : and . after the first character become _', () => {
    expect(define('p mymod:mod_func').event).toBe('p_mymod_mod_func_0');
    expect(define('p foo.isra.0').event).toBe('p_foo_isra_0_0');
  });
  it('R109: the generated name is cut to 63 characters', () => {
    const d = define(`p ${'a'.repeat(70)}`);
    expect(d.event).toBe(`p_${'a'.repeat(61)}`);
  });
  it('R109: an address target is named after the address', () => {
    expect(define('p 0xffffffff81000000').event).toBe('p_0xffffffff81000000');
  });
});

describe('§15.4 maxactive', () => {
  it('R110: a digit after p → BAD_MAXACT_TYPE at column 1', () => expectError('p^100 vfs_read', 'BAD_MAXACT_TYPE'));
  it('R110: not an unsigned number → BAD_MAXACT', () => expectError('r^1a111 vfs_read', 'BAD_MAXACT'));
  it('R110: an explicit 0 → BAD_MAXACT', () => {
    expectError('r^0 vfs_read', 'BAD_MAXACT');
    expectError('r^0:ev vfs_read', 'BAD_MAXACT');
  });
  it('R110: above 4096 → MAXACT_TOO_BIG', () => {
    expectError('r^100000 vfs_read', 'MAXACT_TOO_BIG');
    expectError('r^4097 vfs_read', 'MAXACT_TOO_BIG');
    expect(define('r4096 vfs_read').maxactive).toBe(4096);
  });
  it('R110: text longer than 63 characters → BAD_MAXACT', () => {
    expectError(`r^${'1'.repeat(64)} vfs_read`, 'BAD_MAXACT');
  });
  it('R110: C base prefixes are allowed and the text runs to the :', () => {
    expect(define('r0x10:ev vfs_read')).toMatchObject({ maxactive: 16, event: 'ev' });
    expect(define('r010 vfs_read').maxactive).toBe(8);
    expect(define('r vfs_read').maxactive).toBe(0);
  });
  it('R110: the limit is the kernel\'s (ParseContext.maxactiveLimit)', () => {
    const ctx = simpleContext({ symbols: ['vfs_read'], maxactiveLimit: 10 });
    expectError('r^11 vfs_read', 'MAXACT_TOO_BIG', { ctx });
  });
});

describe('§15.5 location', () => {
  it('R111: a number is an address', () => {
    expect(define('p 0x1000').location).toEqual({ kind: 'address', address: 0x1000n });
    expect(define('p 4096').location).toEqual({ kind: 'address', address: 4096n });
  });
  it('R111: address probes cannot use $argN (never function entry)', () => {
    expectError('p 0x1000 ^$arg1', 'NOFENTRY_ARGS');
  });
  it('R111: r on a bare address is not a return probe for arguments', () => {
    expect(define('r 0x1000').kind).toBe('kretprobe');
    expectError('r 0x1000 ^$retval', 'RETVAL_ON_PROBE');
    expectError('r 0x1000 ^$arg1', 'NOFENTRY_ARGS');
    expectError('r 0x1000 ^file', 'NOSUP_BTFARG', { ctx: BTF });
  });
  it('R112.1: a target with both / and : looks like a uprobe → -EINVAL, no error_log entry', () => {
    expectSilent('p /bin/sh:0x100', 'uprobe-target');
  });
  it('R112.2/R114: only %return is accepted; BAD_ADDR_SUFFIX at the %', () => {
    expectError('p vfs_read^%hoge', 'BAD_ADDR_SUFFIX');
    expectError('p vfs_read+4^%foo', 'BAD_ADDR_SUFFIX');
    expectError('p vfs_read^%return%x', 'BAD_ADDR_SUFFIX');
  });
  it('R112.3: unparsable, negative or > 4294967295 offsets → BAD_PROBE_ADDR', () => {
    expectError('p ^hoge-fuga', 'BAD_PROBE_ADDR');
    expectError('p ^hoge+1000-1000', 'BAD_PROBE_ADDR');
    expectError('p ^vfs_read+x', 'BAD_PROBE_ADDR');
    expectError('p ^vfs_read-4', 'BAD_PROBE_ADDR');
    expectError('p ^vfs_read+4294967296', 'BAD_PROBE_ADDR');
    expect(define('p vfs_read+4294967295').location).toMatchObject({ symbol: 'vfs_read', offset: 4294967295 });
  });
  it('R112.4: an unknown symbol → BAD_PROBE_ADDR at the location column', () => {
    expectError('p ^non_exist_func', 'BAD_PROBE_ADDR');
    expectError('p:ev ^mymod:nothere', 'BAD_PROBE_ADDR');
  });
  it('R112.4: more than one match → NON_UNIQ_SYMBOL', () => {
    expectError('p ^dup_sym', 'NON_UNIQ_SYMBOL');
    expect(define('p mymod:dup_sym').location).toEqual({ kind: 'symbol', symbol: 'dup_sym', module: 'mymod', offset: 0 });
  });
  it('R112.4/R98: a MOD that is not loaded skips the symbol checks', () => {
    expect(define('p notloaded:anything+8').location).toEqual({
      kind: 'symbol',
      symbol: 'anything',
      module: 'notloaded',
      offset: 8,
    });
    expect(define('r notloaded:anything').kind).toBe('kretprobe');
  });
  it('R112.5: a return probe not at function entry → BAD_RETPROBE', () => {
    expectError('r ^vfs_read+10', 'BAD_RETPROBE');
    expectError('p ^vfs_read+10%return', 'BAD_RETPROBE');
  });
  it('R112.5/R24: offset 4 is an entry on IBT builds', () => {
    const ibt = simpleContext({ symbols: [{ name: 'vfs_read', entryOffsets: [0, 4] }] });
    expect(define('r vfs_read+4', ibt).location).toMatchObject({ offset: 4 });
  });
  it('R117: p:EV SYM%return and r:EV SYM are identical', () => {
    expect(define('p:ev vfs_read%return')).toEqual(define('r:ev vfs_read'));
    expect(renderProbe(define('p:ev vfs_read%return'))).toBe(renderProbe(define('r:ev vfs_read')));
  });
});

describe('§15.6 fetch arguments', () => {
  it('%REG: x86-64 register names', () => {
    const d = define('p vfs_read %ax %bx %cx %dx %si %di %bp %sp %ip %flags %r8 %r15 %cs %ss %orig_ax');
    expect(d.args.map((a) => a.fetch)).toEqual(
      ['ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp', 'ip', 'flags', 'r8', 'r15', 'cs', 'ss', 'orig_ax'].map((reg) => ({
        kind: 'reg',
        reg,
      })),
    );
    expectError('p vfs_read ^%none_reg', 'BAD_REG_NAME');
    expectError('p vfs_read ^%rax', 'BAD_REG_NAME');
    expectError('p vfs_read ^%x0', 'BAD_REG_NAME');
  });
  it('%REG: arm64 register names', () => {
    const d = define('p kernel_clone %x0 %x30 %lr %sp %pc %pstate', ARM64);
    expect(d.args.map((a) => a.fetch)).toEqual(['x0', 'x30', 'lr', 'sp', 'pc', 'pstate'].map((reg) => ({ kind: 'reg', reg })));
    expectError('p kernel_clone ^%ax', 'BAD_REG_NAME', { ctx: ARM64 });
    expectError('p kernel_clone ^%x31', 'BAD_REG_NAME', { ctx: ARM64 });
  });
  it('@ADDR and @SYM±OFF (resolved at registration, so accepted here)', () => {
    const d = define('p vfs_read @0xffffffff82000000 @jiffies @jiffies+8 @jiffies-0x10 @nosuchsym');
    expect(d.args.map((a) => a.fetch)).toEqual([
      { kind: 'mem-addr', address: 0xffffffff82000000n },
      { kind: 'mem-symbol', text: 'jiffies', symbol: 'jiffies', offset: 0n },
      { kind: 'mem-symbol', text: 'jiffies+8', symbol: 'jiffies', offset: 8n },
      { kind: 'mem-symbol', text: 'jiffies-0x10', symbol: 'jiffies', offset: -16n },
      { kind: 'mem-symbol', text: 'nosuchsym', symbol: 'nosuchsym', offset: 0n },
    ]);
    expectError('p vfs_read ^@12345678abcde', 'BAD_MEM_ADDR');
  });
  it('@+OFF → FILE_ON_KPROBE', () => expectError('p vfs_read ^@+10', 'FILE_ON_KPROBE'));
  it('$stack and $stackN (N ≤ THREAD_SIZE/8 = 2048)', () => {
    expect(define('p vfs_read $stack $stack0 $stack2048').args.map((a) => a.fetch)).toEqual([
      { kind: 'stack-pointer' },
      { kind: 'stack', index: 0 },
      { kind: 'stack', index: 2048 },
    ]);
    expectError('p vfs_read ^$stack10000', 'BAD_STACK_NUM');
    expectError('p vfs_read ^$stack2049', 'BAD_STACK_NUM');
    expectError('p vfs_read ^$stackx', 'BAD_VAR');
  });
  it('$argN: N = 0 or N > 2048 → BAD_ARG_NUM', () => {
    expect(define('p vfs_read $arg1 $arg2048').args.map((a) => a.fetch)).toEqual([
      { kind: 'arg', index: 1, fromEntry: false },
      { kind: 'arg', index: 2048, fromEntry: false },
    ]);
    expectError('p vfs_read ^$arg10000', 'BAD_ARG_NUM');
    expectError('p vfs_read ^$arg0', 'BAD_ARG_NUM');
    expectError('p vfs_read ^$arg2049', 'BAD_ARG_NUM');
  });
  it('$retval: return probes on a symbol only', () => {
    expect(define('r vfs_read $retval').args[0]?.fetch).toEqual({ kind: 'retval' });
    expectError('p vfs_read ^$retval', 'RETVAL_ON_PROBE');
  });
  it('$comm and $COMM', () => {
    const d = define('p vfs_read $comm $COMM');
    expect(d.args.map((a) => [a.fetch, a.type])).toEqual([
      [{ kind: 'comm' }, { kind: 'string', name: 'string' }],
      [{ kind: 'comm' }, { kind: 'string', name: 'string' }],
    ]);
  });
  it('an unknown $-variable → BAD_VAR', () => expectError('p vfs_read ^$none_var', 'BAD_VAR'));
  it('\\IMM: decimal, 0x, octal, -, +', () => {
    const d = define('p vfs_read \\123 \\0x10 \\010 \\-1 \\+5');
    expect(d.args.map((a) => a.fetch)).toEqual([
      { kind: 'imm', value: 123n },
      { kind: 'imm', value: 16n },
      { kind: 'imm', value: 8n },
      { kind: 'imm', value: 0xffffffffffffffffn },
      { kind: 'imm', value: 5n },
    ]);
  });
  it('\\IMM: unparsable → BAD_IMM just after the backslash', () => {
    expectError('p vfs_read arg1=\\^x', 'BAD_IMM');
    expectError('p vfs_read \\^abc', 'BAD_IMM');
  });
  it('\\"text": an immediate string', () => {
    const d = define('p vfs_read \\"hello"');
    expect(d.args[0]).toMatchObject({ fetch: { kind: 'imm-string', value: 'hello' }, type: { kind: 'string', name: 'string' } });
  });
  it('\\"text": IMMSTR_NO_CLOSE just past the body, before any :TYPE', () => {
    expectError('p vfs_read arg1=\\"abcd^', 'IMMSTR_NO_CLOSE');
    expectError('p vfs_read \\"abc^:string', 'IMMSTR_NO_CLOSE');
  });
  it('\\"a:b" → NEED_STRING_TYPE at the column after the :', () => {
    expectError('p vfs_read \\"a:^b"', 'NEED_STRING_TYPE');
  });
  it('±OFF(FETCHARG) and +uOFF(FETCHARG)', () => {
    const d = define('p vfs_read +8(%di) -16(+0(%si)) +u4(%dx)');
    expect(d.args.map((a) => a.fetch)).toEqual([
      { kind: 'deref', offset: 8n, user: false, inner: { kind: 'reg', reg: 'di' } },
      { kind: 'deref', offset: -16n, user: false, inner: { kind: 'deref', offset: 0n, user: false, inner: { kind: 'reg', reg: 'si' } } },
      { kind: 'deref', offset: 4n, user: true, inner: { kind: 'reg', reg: 'dx' } },
    ]);
  });
  it('dereference errors (selftest)', () => {
    expectError('p vfs_read ^+0@0)', 'DEREF_NEED_BRACE');
    expectError('p vfs_read ^+0ab1(@0)', 'BAD_DEREF_OFFS');
    expectError('p vfs_read +0(+0(@0^)', 'DEREF_OPEN_BRACE');
    expectError('p vfs_read +0(^$comm)', 'COMM_CANT_DEREF');
  });
  it('dereferencing an immediate string → COMM_CANT_DEREF', () => {
    expectError('p vfs_read +0(^\\"x")', 'COMM_CANT_DEREF');
  });
  it('anything else → BAD_FETCH_ARG', () => {
    expectError('p vfs_read ^&1', 'BAD_FETCH_ARG');
    expectError('p vfs_read +0(^)', 'BAD_FETCH_ARG');
  });
  it('R115: text after the last ) is ignored', () => {
    const d = define('p vfs_read +0(%ax)+10');
    expect(d.args[0]).toMatchObject({ text: '+0(%ax)+10', fetch: { kind: 'deref', offset: 0n, inner: { kind: 'reg', reg: 'ax' } } });
  });
  it('R115: errors inside dereferences are reported at the inner text', () => {
    expectError('p vfs_read +8(-16(^%bad))', 'BAD_REG_NAME');
  });
  it('R115: for +u/-u the inner column is one to the left', () => {
    expectError('p vfs_read +u8^(%bad)', 'BAD_REG_NAME');
    expectError('p vfs_read -u8^(%bad)', 'BAD_REG_NAME');
  });
  it('R116: more than 16 fetch steps → TOO_MANY_OPS at the outermost inner column', () => {
    expectError('p vfs_read +0(^+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(@0))))))))))))))', 'TOO_MANY_OPS');
    // one level less fits: load + deref (@0) + 13 dereferences + store + END = 16 steps
    expect(define('p vfs_read +0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(@0)))))))))))))').args).toHaveLength(1);
  });
});

describe('§15.7 types', () => {
  it('R118: the default type is x64; $comm and immediate strings default to string', () => {
    const d = define('p vfs_read %ax $comm \\"s"');
    expect(d.args.map((a) => a.type)).toEqual([
      { kind: 'scalar', name: 'x64' },
      { kind: 'string', name: 'string' },
      { kind: 'string', name: 'string' },
    ]);
  });
  it('R118: every basic type, char and symbol', () => {
    const names = ['u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'x8', 'x16', 'x32', 'x64', 'char', 'symbol'];
    const d = define(`p vfs_read ${names.map((n) => `%ax:${n}`).join(' ')}`);
    expect(d.args.map((a) => a.type)).toEqual(names.map((name) => ({ kind: 'scalar', name })));
  });
  it('R119: string/ustring need a memory read, an immediate, $comm or an immediate string', () => {
    const d = define('p vfs_read +0(%di):string +0(%si):ustring @0:string \\1:string $comm:string');
    expect(d.args.map((a) => a.type.kind)).toEqual(['string', 'string', 'string', 'string', 'string']);
    expectError('p vfs_read $stack0:^string', 'BAD_STRING');
    expectError('p vfs_read %ax:^string', 'BAD_STRING');
    expectError('p vfs_read %ax:^ustring', 'BAD_STRING');
  });
  it('R119: symstr needs a register, stack slot, $retval, $argN or a dereference', () => {
    const d = define('r vfs_read %ax:symstr $stack1:symstr $retval:symstr +0(%ax):symstr');
    expect(d.args.map((a) => a.type)).toEqual(Array(4).fill({ kind: 'string', name: 'symstr' }));
    expect(define('p vfs_read $arg1:symstr').args[0]?.type).toEqual({ kind: 'string', name: 'symstr' });
    expectError('p vfs_read \\1:^symstr', 'BAD_SYMSTRING');
    expectError('p vfs_read $comm:^symstr', 'NEED_STRING_TYPE');
  });
  it('R119: on a return probe $argN comes from entry data, which symstr rejects', () => {
    expectError('r vfs_read $arg1:^symstr', 'BAD_SYMSTRING');
  });
  it('R121: bitfields b<width>@<offset>/<container>', () => {
    expect(define('p vfs_read %ax:b4@4/8 +0(%ax):b1@0/0x40').args.map((a) => a.type)).toEqual([
      { kind: 'bitfield', width: 4, offset: 4, container: 8 },
      { kind: 'bitfield', width: 1, offset: 0, container: 64 },
    ]);
  });
  it('R121: no / or another container → BAD_TYPE', () => {
    expectError('p vfs_read %ax:^b4@2', 'BAD_TYPE');
    expectError('p vfs_read %ax:^b4@2/12', 'BAD_TYPE');
  });
  it('R121: bad width, missing @, bad offset, overflow → BAD_BITFIELD at the type column', () => {
    expectError('p vfs_read @11:^b10@a/16', 'BAD_BITFIELD');
    expectError('p vfs_read %ax:^b0@0/8', 'BAD_BITFIELD');
    expectError('p vfs_read %ax:^b4/8', 'BAD_BITFIELD');
    expectError('p vfs_read %ax:^b4@6/8', 'BAD_BITFIELD');
  });
  it('R121: after a dereference the BAD_BITFIELD column shifts by the outer ±OFF( prefix', () => {
    expectError('p vfs_read +0(%ax):b4@^6/8', 'BAD_BITFIELD');
  });
  it('R122: arrays', () => {
    expect(define('p vfs_read +0(@11):u8[10] +8($stack):x8[8] +0(%ax):string[2] +0(%ax):u8[64]').args.map((a) => a.type)).toEqual([
      { kind: 'array', element: { kind: 'scalar', name: 'u8' }, length: 10 },
      { kind: 'array', element: { kind: 'scalar', name: 'x8' }, length: 8 },
      { kind: 'array', element: { kind: 'string', name: 'string' }, length: 2 },
      { kind: 'array', element: { kind: 'scalar', name: 'u8' }, length: 64 },
    ]);
  });
  it('R122: array syntax errors (selftest)', () => {
    expectError('p vfs_read +0(@11):u8[10^', 'ARRAY_NO_CLOSE');
    expectError('p vfs_read +0(@11):u8[10]^a', 'BAD_ARRAY_SUFFIX');
    expectError('p vfs_read +0(@11):u8[^10a]', 'BAD_ARRAY_NUM');
    expectError('p vfs_read +0(@11):u8[^256]', 'ARRAY_TOO_BIG');
  });
  it('R122: N must be positive and ≤ 64', () => {
    expectError('p vfs_read +0(@11):u8[^0]', 'BAD_ARRAY_NUM');
    expectError('p vfs_read +0(@11):u8[^65]', 'ARRAY_TOO_BIG');
  });
  it('R122: arrays need a value from memory, else BAD_STRING at the type column', () => {
    expectError('p vfs_read $stack1:^x8[8]', 'BAD_STRING');
    expectError('p vfs_read %ax:^u32[2]', 'BAD_STRING');
  });
  it('R123: an unknown type → BAD_TYPE at the type column, checked before the body', () => {
    expectError('p vfs_read @11:^unknown_type', 'BAD_TYPE');
    expectError('p vfs_read x16:^%ax', 'BAD_TYPE');
    expectError('p vfs_read %ax:^:x16', 'BAD_TYPE');
    expectError('p vfs_read %bad:^y8', 'BAD_TYPE');
  });
  it('R124: %pd / %pD are rewritten into string dereferences', () => {
    const ctx = simpleContext({ symbols: ['vfs_read'], btf: undefined });
    const d = define('p vfs_read name=%di:%pd %si:%pD', { ...ctx, dentryNameOffset: 0x28, fileDentryOffset: 0x48 });
    expect(d.args.map((a) => [a.name, a.text, a.type])).toEqual([
      ['name', '+0x0(+0x28(%di)):string', { kind: 'string', name: 'string' }],
      ['arg2', '+0x0(+0x28(+0x48(%si))):string', { kind: 'string', name: 'string' }],
    ]);
  });
  it('R124 (kernel source): the rewrite edits the tokens error_log echoes', () => {
    const ctx: ParseContext = { ...X86, dentryNameOffset: 0x28 };
    // "p vfs_read +0x0(+0x28(%di)):string %bad": the bad register is at 11 + 23 + 1
    const r = parse('p vfs_read %di:%pd %bad', ctx);
    expect(r.ok).toBe(false);
    if (r.ok || !r.error) return;
    expect(r.command).toBe('p vfs_read +0x0(+0x28(%di)):string %bad');
    expect(r.error).toMatchObject({ key: 'BAD_REG_NAME', offset: 35 });
  });
  it('R159: a %pd rewrite overflowing 256 bytes → -ENOMEM without an error_log entry', () => {
    const ctx: ParseContext = { ...X86, dentryNameOffset: 0x28 };
    // each rewrite "+0x0(+0x28(%di)):string" takes 23 + 1 bytes; the 11th does not fit
    expect(define(`p vfs_read ${Array(10).fill('%di:%pd').join(' ')}`, ctx).args).toHaveLength(10);
    expectSilent(`p vfs_read ${Array(11).fill('%di:%pd').join(' ')}`, 'no-memory', ctx, Errno.ENOMEM);
  });
  it('R125: $comm and immediate strings accept only string', () => {
    expectError('p vfs_read $comm:^u8', 'NEED_STRING_TYPE');
    expectError('p vfs_read $comm:^string[2]', 'NEED_STRING_TYPE');
    expectError('p vfs_read \\"x":^u32', 'NEED_STRING_TYPE');
  });
});

describe('§15.8 limits', () => {
  it('R126: at most 128 fetchargs (TOO_MANY_ARGS at the first fetcharg, -E2BIG)', () => {
    expect(define(`p vfs_read ${Array(128).fill('%ax').join(' ')}`).args).toHaveLength(128);
    expectError(`p vfs_read ^${Array(129).fill('%ax').join(' ')}`, 'TOO_MANY_ARGS', { errno: Errno.E2BIG });
  });
  it('R126: a body longer than 63 characters → ARG_TOO_LONG (-E2BIG); empty → NO_ARG_BODY', () => {
    expectError('p vfs_read ^+1234567(+1234567(+1234567(+1234567(+1234567(+1234567(@1234))))))', 'ARG_TOO_LONG', {
      errno: Errno.E2BIG,
    });
    expectError(`p vfs_read x=^\\"${'a'.repeat(61)}"`, 'ARG_TOO_LONG', { errno: Errno.E2BIG });
    expect(define(`p vfs_read x=\\"${'a'.repeat(60)}"`).args[0]?.name).toBe('x');
    expectError('p vfs_read arg1=^', 'NO_ARG_BODY');
  });
});

describe('§15.9 argument names', () => {
  it('R127: name errors at the fetcharg column (selftest)', () => {
    expectError('p vfs_read ^arg123456789012345678901234567890=@11', 'ARG_NAME_TOO_LONG');
    expectError('p vfs_read ^=@11', 'NO_ARG_NAME');
    expectError('p vfs_read ^var.1=@11', 'BAD_ARG_NAME');
    expectError('p vfs_read var1=@11 ^var1=@12', 'USED_ARG_NAME');
  });
  it('R127: 32 characters are allowed', () => {
    expect(define(`p vfs_read ${'n'.repeat(32)}=%ax`).args[0]?.name).toBe('n'.repeat(32));
  });
  it('R127: reserved field names → USED_ARG_NAME', () => {
    for (const n of ['common_type', 'common_flags', 'common_preempt_count', 'common_pid', 'common_tgid', '__probe_ip', '__probe_ret_ip', '__probe_func']) {
      expectError(`p vfs_read ^${n}=%ax`, 'USED_ARG_NAME');
    }
  });
  it('R127: unnamed arguments are arg<K> by position', () => {
    expect(define('p vfs_read %ax x=%bx %cx').args.map((a) => a.name)).toEqual(['arg1', 'x', 'arg3']);
    expectError('p vfs_read arg2=%ax ^%bx', 'USED_ARG_NAME');
  });
  it('R127: with BTF support a bare identifier names itself', () => {
    expect(define('p vfs_read file count:u32', BTF).args.map((a) => a.name)).toEqual(['file', 'count']);
  });
});

describe('§15.10 $argN, $arg* and BTF', () => {
  it('R128: $argN at a function entry and on return probes', () => {
    expect(define('p vfs_read $arg1').args[0]?.fetch).toEqual({ kind: 'arg', index: 1, fromEntry: false });
    expect(define('r vfs_read $arg1').args[0]?.fetch).toEqual({ kind: 'arg', index: 1, fromEntry: true });
  });
  it('R128: elsewhere NOFENTRY_ARGS — unnamed at the fetcharg column, named at the body column', () => {
    expectError('p vfs_read+4 ^$arg1', 'NOFENTRY_ARGS');
    expectError('p vfs_read+4 x=^$arg1', 'NOFENTRY_ARGS');
  });
  it('R129: $arg* expands to one argument per BTF parameter, named after it', () => {
    const d = define('p vfs_read $arg*', BTF);
    expect(d.args.map((a) => [a.name, a.text])).toEqual([
      ['file', 'file'],
      ['buf', 'buf'],
      ['count', 'count'],
      ['pos', 'pos'],
    ]);
    expect(d.args.map((a) => a.fetch)).toEqual([1, 2, 3, 4].map((index) => ({ kind: 'arg', index, fromEntry: false })));
    expect(d.args.map((a) => a.type)).toEqual([
      { kind: 'scalar', name: 'x64' },
      { kind: 'scalar', name: 'x64' },
      { kind: 'scalar', name: 'u64' },
      { kind: 'scalar', name: 'x64' },
    ]);
  });
  it('R129/R136: with BTF $argN reads back as the parameter name', () => {
    const d = define('p vfs_read $arg1 $arg3:u32', BTF);
    expect(d.args.map((a) => `${a.name}=${a.text}`)).toEqual(['file=file', 'count=count:u32']);
  });
  it('R129: two $arg* → DOUBLE_ARGS at the second', () => {
    expectError('p vfs_read $arg* ^$arg*', 'DOUBLE_ARGS', { ctx: BTF });
    expectError('p vfs_read $arg* ^$arg*', 'DOUBLE_ARGS');
  });
  it('R129: $arg* not at an entry → NOFENTRY_ARGS', () => {
    expectError('p vfs_read+20 ^$arg*', 'NOFENTRY_ARGS', { ctx: BTF });
  });
  it('R129: $argN beyond the BTF parameters → NO_BTFARG', () => {
    expectError('p kfree ^$arg10', 'NO_BTFARG', { ctx: BTF, errno: Errno.ENOENT });
  });
  it('R129: without BTF, $arg* → NOSUP_BTFARG at the last fetcharg starting with $arg', () => {
    expectError('p vfs_read ^$arg*', 'NOSUP_BTFARG');
    expectError('p vfs_read $arg* %ax ^$arg1', 'NOSUP_BTFARG');
    expectError('p do_exit ^$arg*', 'NOSUP_BTFARG', { ctx: BTF });
  });
  it('R129 (kernel source): after NOSUP_BTFARG the kernel parses on and logs the next error too', () => {
    const r = parse('p vfs_read $arg* %ax $arg1');
    expect(r.ok).toBe(false);
    if (r.ok || !r.error) return;
    expect(r.logged.map((l) => [l.error.key, l.error.offset])).toEqual([
      ['NOSUP_BTFARG', 21],
      ['BAD_VAR', 11],
    ]);
  });
  it('R129: when BTF is not usable, plain $argN is parsed normally', () => {
    expect(define('p do_exit $arg1', BTF).args[0]).toMatchObject({ name: 'arg1', fetch: { kind: 'arg', index: 1 } });
  });
  it('R129: $arg* with a name or inside a dereference → BAD_VAR', () => {
    expectError('p vfs_read args=^$arg*', 'BAD_VAR', { ctx: BTF });
    expectError('p vfs_read +0(^$arg*)', 'BAD_VAR', { ctx: BTF });
  });
  it('R130: BTF names — unknown name, no BTF for the function, no BTF support', () => {
    expectError('p vfs_read ^hoge', 'NO_BTFARG', { ctx: BTF, errno: Errno.ENOENT });
    expectError('p do_exit ^code', 'NO_BTF_ENTRY', { ctx: BTF, errno: Errno.ENOENT });
    expectError('p vfs_read ^hoge', 'NOSUP_BTFARG', { errno: Errno.EOPNOTSUPP });
    expectError('p vfs_read+4 ^file', 'NOSUP_BTFARG', { ctx: BTF });
  });
  it('R130: a BTF parameter on a return probe is read from entry data', () => {
    expect(define('r vfs_read count', BTF).args[0]).toMatchObject({
      fetch: { kind: 'arg', index: 3, fromEntry: true },
      type: { kind: 'scalar', name: 'u64' },
    });
  });
  it('R130 (kernel source): field access through ->', () => {
    const d = define('p vfs_read file->f_flags file->f_path.dentry', BTF);
    expect(d.args.map((a) => [a.name, a.fetch, a.type])).toEqual([
      ['arg1', { kind: 'deref', offset: 48n, user: false, inner: { kind: 'arg', index: 1, fromEntry: false } }, { kind: 'scalar', name: 'u32' }],
      ['arg2', { kind: 'deref', offset: 72n, user: false, inner: { kind: 'arg', index: 1, fromEntry: false } }, { kind: 'scalar', name: 'x64' }],
    ]);
  });
  it('R130 (kernel source): BTF field errors', () => {
    expectError('p vfs_read file->^nosuch', 'NO_BTF_FIELD', { ctx: BTF, errno: Errno.ENOENT });
    expectError('p vfs_read count->^x', 'NO_PTR_STRCT', { ctx: BTF });
    expectError('p vfs_read file^-x', 'BAD_HYPHEN', { ctx: BTF });
    expectError('p vfs_read file.^f_flags', 'NOSUP_DAT_ARG', { ctx: BTF, errno: Errno.EOPNOTSUPP });
  });
  it('R129 (kernel source): $arg* names must fit 128 bytes → ARGS_2LONG (-E2BIG)', () => {
    const long = (c: string): { name: string; type: BtfType } => ({ name: c.repeat(30), type: U64 });
    const ctx = simpleContext({ symbols: ['f'], btf: { f: { returnType: null, params: ['a', 'b', 'c', 'd', 'e'].map(long) } } });
    expect(define('p f $arg4', ctx).args[0]?.name).toBe('d'.repeat(30));
    expectError('p f ^$arg*', 'ARGS_2LONG', { ctx, errno: Errno.E2BIG });
  });
  it('R130 (kernel source): string types on BTF values — char * is dereferenced, other types fail', () => {
    expect(define('p vfs_read buf:string', BTF).args[0]).toMatchObject({
      fetch: { kind: 'deref', offset: 0n, user: false, inner: { kind: 'arg', index: 2 } },
      type: { kind: 'string', name: 'string' },
    });
    expectError('p vfs_read ^count:string', 'BAD_TYPE4STR', { ctx: BTF });
    expectError('p kfree objp->^x', 'BAD_BTF_TID', { ctx: BTF });
  });
  it('§15.6 $retval: a void function → NO_RETVAL; otherwise typed from BTF', () => {
    expectError('r kfree ^$retval', 'NO_RETVAL', { ctx: BTF, errno: Errno.ENOENT });
    expect(define('r vfs_read $retval', BTF).args[0]?.type).toEqual({ kind: 'scalar', name: 's64' });
  });
  it('R166: after $arg* expansion fetcharg errors land on later tokens, or past the end', () => {
    // "p vfs_read $arg* %ax:y16" with 4 parameters → BAD_TYPE at column 25 instead of 21
    const r = parse('p vfs_read $arg* %ax:y16', BTF);
    expect(r.ok).toBe(false);
    if (r.ok || !r.error) return;
    expect(r.error).toMatchObject({ key: 'BAD_TYPE', offset: 25 });
  });
});

describe('§18 parse order (R150)', () => {
  it('maxactive (step 2) before location (step 3) before names (step 4)', () => {
    expectError('p^100:/bar non_exist', 'BAD_MAXACT_TYPE');
    expectError('p:/bar ^non_exist', 'BAD_PROBE_ADDR');
    expectError('r:^/bar vfs_read', 'NO_GROUP_NAME');
  });
  it('names (step 4) before fetchargs (step 8)', () => {
    expectError('p:^bad.1/x vfs_read %bad', 'BAD_GROUP_NAME');
  });
  it('$arg screening (step 5) before the argument count (step 6) before each argument (step 8)', () => {
    expectError('p vfs_read+4 %bad ^$arg2', 'NOFENTRY_ARGS');
    expectError(`p vfs_read ^%bad ${Array(128).fill('%ax').join(' ')}`, 'TOO_MANY_ARGS', { errno: Errno.E2BIG });
  });
  it('within an argument: name, then body length, then type, then body', () => {
    expectError('p vfs_read ^1x=%bad:y8', 'BAD_ARG_NAME');
    expectError('p vfs_read x=%bad:^y8', 'BAD_TYPE');
    expectError('p vfs_read ^%bad:u8', 'BAD_REG_NAME');
  });
  it('arguments left to right', () => {
    expectError('p vfs_read %ax ^%bad %worse', 'BAD_REG_NAME');
  });
});

describe('R165 columns', () => {
  it('the column counts the joined tokens', () => {
    expectError('p:ev vfs_read x=%ax y=^%bad', 'BAD_REG_NAME');
    expectError('p:ev vfs_read x=%ax ^y.z=%bad', 'BAD_ARG_NAME');
  });
});

describe('R133 delete syntax', () => {
  it('-:[GROUP/]EVENT with match tokens', () => {
    expect(parse('-:myprobe')).toEqual({ ok: true, command: { kind: 'delete', group: null, event: 'myprobe', match: [] } });
    expect(parse('-:grp/ev vfs_read x=%ax')).toEqual({
      ok: true,
      command: { kind: 'delete', group: 'grp', event: 'ev', match: ['vfs_read', 'x=%ax'] },
    });
    expect(parse('-:grp/')).toEqual({ ok: true, command: { kind: 'delete', group: 'grp', event: '', match: [] } });
  });
  it('the character after - must be :, and without a group the event must not be empty', () => {
    expectSilent('-myprobe', 'bad-delete-syntax');
    expectSilent('-:', 'bad-delete-syntax');
    expectSilent('-', 'bad-delete-syntax');
  });
  it('R105: only the raw first character dispatches to delete', () => {
    expectSilent(' -:myprobe', 'not-a-probe-command');
  });
});

describe('seed 003 §2.2 (arm64 session)', () => {
  it('parses the kernel_clone probe and reads it back', () => {
    const d = define(
      'p:myprobe kernel_clone clone_flags=%x0 stack_start=%x1 stack_size=%x2 parent_tidptr=%x3 child_tidptr=+0($stack)',
      ARM64,
    );
    expect(d).toMatchObject({ kind: 'kprobe', group: 'kprobes', event: 'myprobe', location: { symbol: 'kernel_clone', offset: 0 } });
    expect(d.args.map((a) => a.name)).toEqual(['clone_flags', 'stack_start', 'stack_size', 'parent_tidptr', 'child_tidptr']);
    expect(d.args.every((a) => a.type.kind === 'scalar' && a.type.name === 'x64')).toBe(true);
    expect(renderProbe(d)).toBe(
      'p:kprobes/myprobe kernel_clone clone_flags=%x0 stack_start=%x1 stack_size=%x2 parent_tidptr=%x3 child_tidptr=+0($stack)',
    );
  });
});
