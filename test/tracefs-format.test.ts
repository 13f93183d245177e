// The event `format` file (spec R141–R143) and seed 003 §2.2.

import { describe, expect, it } from 'vitest';
import { eventFields, printFmt, renderFormat } from '../src/tracefs/format.ts';
import { parseProbeCommand } from '../src/tracefs/grammar.ts';
import { simpleContext } from '../src/tracefs/simple-context.ts';
import type { ParseContext, ProbeDefinition } from '../src/tracefs/types.ts';

const X86 = simpleContext({ symbols: ['vfs_read', 'kernel_clone'] });
const ARM64 = simpleContext({ arch: 'arm64', symbols: ['kernel_clone'] });

function define(cmd: string, ctx: ParseContext = X86): ProbeDefinition {
  const r = parseProbeCommand(cmd, ctx);
  if (!r.ok || r.command.kind !== 'define') throw new Error(`bad command ${cmd}`);
  return r.command.probe;
}

const COMMON =
  '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n' +
  '\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n' +
  '\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n' +
  '\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n';

describe('§16 format', () => {
  it('R141–R143: the seed 003 kernel_clone probe (arm64)', () => {
    const d = define(
      'p:myprobe kernel_clone clone_flags=%x0 stack_start=%x1 stack_size=%x2 parent_tidptr=%x3 child_tidptr=+0($stack)',
      ARM64,
    );
    expect(renderFormat(d, 1333)).toBe(
      'name: myprobe\nID: 1333\nformat:\n' +
        COMMON +
        '\n' +
        '\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n' +
        '\tfield:u64 clone_flags;\toffset:16;\tsize:8;\tsigned:0;\n' +
        '\tfield:u64 stack_start;\toffset:24;\tsize:8;\tsigned:0;\n' +
        '\tfield:u64 stack_size;\toffset:32;\tsize:8;\tsigned:0;\n' +
        '\tfield:u64 parent_tidptr;\toffset:40;\tsize:8;\tsigned:0;\n' +
        '\tfield:u64 child_tidptr;\toffset:48;\tsize:8;\tsigned:0;\n' +
        '\n' +
        'print fmt: "(%lx) clone_flags=0x%Lx stack_start=0x%Lx stack_size=0x%Lx parent_tidptr=0x%Lx child_tidptr=0x%Lx", REC->__probe_ip, REC->clone_flags, REC->stack_start, REC->stack_size, REC->parent_tidptr, REC->child_tidptr\n',
    );
  });
  it('R142: kretprobes have __probe_func and __probe_ret_ip; arguments are packed', () => {
    const d = define('r:ev vfs_read s=+0(%di):string a=+0(%si):u8[4] c=%ax:s32 ch=%bx:char sym=%ip:symbol b=%dx:b3@1/16');
    expect(eventFields(d).map((f) => [f.name, f.type, f.offset, f.size, f.signed])).toEqual([
      ['__probe_func', 'unsigned long', 8, 8, false],
      ['__probe_ret_ip', 'unsigned long', 16, 8, false],
      ['s', '__data_loc char[]', 24, 4, true],
      ['a', 'u8[4]', 28, 4, false],
      ['c', 's32', 32, 4, true],
      ['ch', 'u8', 36, 1, false],
      ['sym', 'u64', 37, 8, false],
      ['b', 'u16', 45, 2, false],
    ]);
  });
  it('R142: arrays print as TYPE NAME[N]; strings as __data_loc char[]', () => {
    const text = renderFormat(define('p:ev vfs_read a=+0(%si):u8[4] s=+0(%di):string'), 7);
    expect(text).toContain('\tfield:u8 a[4];\toffset:16;\tsize:4;\tsigned:0;\n');
    expect(text).toContain('\tfield:__data_loc char[] s;\toffset:20;\tsize:4;\tsigned:1;\n');
    // v6.17's f_show() prints probe arrays without the length (fields are defined with len 0)
    expect(renderFormat(define('p:ev vfs_read a=+0(%si):u8[4]'), 7, { arrayStyle: 'v6.17' })).toContain('\tfield:u8 a[];');
  });
  it('R143: print fmt per type, kretprobe form, arrays and strings', () => {
    const d = define('r:ev vfs_read u=%ax:u8 U=%ax:u64 s=%ax:s16 S=%ax:s64 x=%ax:x32 X=%ax c=%ax:char y=%ax:symbol t=+0(%di):string a=+0(%si):x8[2]');
    expect(printFmt(d)).toBe(
      '"(%lx <- %lx) u=%u U=%Lu s=%d S=%Ld x=0x%x X=0x%Lx c=\'%c\' y=%pS t=\\"%s\\" a={0x%x,0x%x}", ' +
        'REC->__probe_func, REC->__probe_ret_ip, REC->u, REC->U, REC->s, REC->S, REC->x, REC->X, REC->c, REC->y, __get_str(t), REC->a[0], REC->a[1]',
    );
  });
  it('R143: a probe without arguments', () => {
    expect(printFmt(define('p vfs_read'))).toBe('"(%lx)", REC->__probe_ip');
  });
});
