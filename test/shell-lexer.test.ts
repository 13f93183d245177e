// sh word splitting, quoting and redirections of the kprobesim shell (src/shell/lexer.ts,
// parser.ts, expand.ts). Expected word lists are reasoned from POSIX sh (XCU 2.2 quoting, 2.3 token
// recognition, 2.6 expansions, 2.7 redirection); messages follow BusyBox ash (src/shell/README.md).

import { describe, expect, it } from 'vitest';
import { expandWordNoSplit, expandWords } from '../src/shell/expand.ts';
import { tokenize } from '../src/shell/lexer.ts';
import { parse, type SimpleCommand } from '../src/shell/parser.ts';
import { splitScript } from '../src/shell/session.ts';

const VARS: Record<string, string> = { X: 'a  b', T: '/sys/kernel/tracing', EMPTY: '', '?': '0' };
const env = { param: (n: string) => VARS[n] };

function commands(line: string): SimpleCommand[] {
  const r = parse(line);
  if (!r.ok) throw new Error(`parse failed: ${JSON.stringify(r)}`);
  return r.list.flatMap((ao) => [ao.first, ...ao.rest.map((x) => x.pipeline)]).flatMap((p) => p.commands);
}

/** The argument list sh would pass to the (only) command of `line`. */
function words(line: string): string[] {
  const cmds = commands(line);
  expect(cmds).toHaveLength(1);
  return expandWords((cmds[0] as SimpleCommand).words, env);
}

function redirects(line: string): { fd: number; op: string; target: string }[] {
  const cmd = commands(line)[0] as SimpleCommand;
  return cmd.redirects.map((r) => ({ fd: r.fd, op: r.op, target: expandWordNoSplit(r.target, env) }));
}

function error(line: string): string {
  const r = parse(line);
  if (r.ok) throw new Error('expected an error');
  return r.kind === 'error' ? r.message : `incomplete:${r.reason}`;
}

describe('word splitting (XCU 2.3)', () => {
  it('blanks separate words; runs of blanks and tabs count once', () => {
    expect(words('echo hello   world\tagain')).toEqual(['echo', 'hello', 'world', 'again']);
  });
  it('a kprobe definition in single quotes is one word with $ and ( kept (seed 003 §2.2)', () => {
    expect(words("echo 'p:myprobe kernel_clone clone_flags=%x0 child_tidptr=+0($stack)'")).toEqual([
      'echo',
      'p:myprobe kernel_clone clone_flags=%x0 child_tidptr=+0($stack)',
    ]);
  });
  it('filter text without quotes: ! and = are ordinary characters', () => {
    expect(words('echo common_pid!=572')).toEqual(['echo', 'common_pid!=572']);
  });
  it('`#` starts a comment only at the start of a word', () => {
    expect(words('echo a#b # the rest is a comment')).toEqual(['echo', 'a#b']);
    expect(words("echo '#not a comment' \\#neither")).toEqual(['echo', '#not a comment', '#neither']);
  });
});

describe('quoting (XCU 2.2)', () => {
  it('single quotes preserve everything, including backslashes and double quotes', () => {
    expect(words(`echo 'a  \\n "b"'`)).toEqual(['echo', 'a  \\n "b"']);
  });
  it("a single quote cannot appear inside single quotes: 'it'\\''s'", () => {
    expect(words("echo 'it'\\''s'")).toEqual(['echo', "it's"]);
  });
  it('inside double quotes a backslash escapes only $ ` " \\ and newline', () => {
    expect(words('echo "a\\"b" "\\$X" "\\\\" "\\a"')).toEqual(['echo', 'a"b', '$X', '\\', '\\a']);
  });
  it('outside quotes a backslash quotes the next character', () => {
    expect(words("echo a\\ b \\'q\\' \\$X")).toEqual(['echo', 'a b', "'q'", '$X']);
  });
  it('adjacent quoted and unquoted pieces form one word', () => {
    expect(words(`echo p:'my probe'"x"y`)).toEqual(['echo', 'p:my probex' + 'y']);
  });
  it('empty quotes make an empty argument', () => {
    expect(words("echo '' \"\" x")).toEqual(['echo', '', '', 'x']);
  });
  it('backslash-newline is a line continuation, also inside double quotes', () => {
    expect(words('echo ab\\\ncd "ef\\\ngh"')).toEqual(['echo', 'abcd', 'efgh']);
  });
  it('a newline inside quotes is kept', () => {
    expect(words("echo 'p:a vfs_read\np:b vfs_read'")).toEqual(['echo', 'p:a vfs_read\np:b vfs_read']);
  });
});

describe('parameter expansion and field splitting (XCU 2.6.2, 2.6.5)', () => {
  it('unquoted expansions are split at IFS whitespace, quoted ones are not, single-quoted not expanded', () => {
    expect(words(`echo $X "$X" '$X'`)).toEqual(['echo', 'a', 'b', 'a  b', '$X']);
  });
  it('an unset or empty unquoted expansion disappears; a quoted one stays as an empty argument', () => {
    expect(words('echo $UNSET x $EMPTY')).toEqual(['echo', 'x']);
    expect(words('echo "$UNSET"')).toEqual(['echo', '']);
  });
  it('${NAME} delimits the name; $? is the last status; a lone $ is literal', () => {
    expect(words('echo ${T}/kprobe_events $?x $ a$')).toEqual(['echo', '/sys/kernel/tracing/kprobe_events', '0x', '$', 'a$']);
  });
  it('an unquoted $stack expands to nothing (why the seed quotes its definition)', () => {
    expect(words('echo child_tidptr=$stack')).toEqual(['echo', 'child_tidptr=']);
  });
  it('NAME=value before the command name is an assignment', () => {
    const [c] = commands('T=/sys/kernel/tracing');
    expect(c?.assignments.map((a) => [a.name, expandWordNoSplit(a.value, env)])).toEqual([['T', '/sys/kernel/tracing']]);
    expect(c?.words).toHaveLength(0);
    expect(words('echo T=x')).toEqual(['echo', 'T=x']);
  });
});

describe('pathname expansion (XCU 2.13)', () => {
  const tree: Record<string, string[]> = { '/': ['dev', 'sys'], '/sys': ['kernel'], '/e': ['enable', 'kprobes', 'foo'], '/e/kprobes': ['enable', 'p1'], '/e/foo': ['enable'] };
  const files = new Set(['/', '/sys', '/dev', '/e', '/e/enable', '/e/kprobes', '/e/foo', '/e/kprobes/enable', '/e/kprobes/p1', '/e/foo/enable']);
  const genv = { param: () => undefined, listDir: (p: string) => tree[p] ?? null, exists: (p: string) => files.has(p), cwd: '/' };
  const g = (line: string): string[] => expandWords((commands(line)[0] as SimpleCommand).words, genv);
  it('* matches names, results are sorted; a pattern without match stays as written', () => {
    expect(g('ls /e/*/enable')).toEqual(['ls', '/e/foo/enable', '/e/kprobes/enable']);
    expect(g('ls /e/k* /e/z*')).toEqual(['ls', '/e/kprobes', '/e/z*']);
  });
  it('quoted pattern characters are literal', () => {
    expect(g("ls '/e/*' /e/\\*")).toEqual(['ls', '/e/*', '/e/*']);
  });
  it('? and [...] classes', () => {
    expect(g('ls /e/fo? /e/[ef]*')).toEqual(['ls', '/e/foo', '/e/enable', '/e/foo']);
  });
});

describe('redirections (XCU 2.7)', () => {
  it('`>` needs no spaces: echo x>file', () => {
    expect(words('echo x>file')).toEqual(['echo', 'x']);
    expect(redirects('echo x>file')).toEqual([{ fd: 1, op: '>', target: 'file' }]);
  });
  it('`>>` appends; the target is expanded but not split', () => {
    expect(redirects('echo x >> $T/kprobe_events')).toEqual([{ fd: 1, op: '>>', target: '/sys/kernel/tracing/kprobe_events' }]);
  });
  it('digits right before > are an IO number only when they make the whole word', () => {
    expect(words('echo 2>/dev/null x')).toEqual(['echo', 'x']);
    expect(redirects('echo 2>/dev/null x')).toEqual([{ fd: 2, op: '>', target: '/dev/null' }]);
    expect(words('echo a2>f')).toEqual(['echo', 'a2']);
    expect(redirects('echo a2>f')).toEqual([{ fd: 1, op: '>', target: 'f' }]);
    expect(words('echo "2">f')).toEqual(['echo', '2']);
  });
  it('< and >& duplication', () => {
    expect(redirects('cat <file 2>&1')).toEqual([
      { fd: 0, op: '<', target: 'file' },
      { fd: 2, op: '>&', target: '1' },
    ]);
  });
  it('a redirection may come first: `> trace` alone truncates the file', () => {
    const [c] = commands('> trace');
    expect(c?.words).toHaveLength(0);
    expect(c?.redirects).toHaveLength(1);
  });
  it('a quoted > is an ordinary character', () => {
    expect(words("echo 'a>b' a\\>b")).toEqual(['echo', 'a>b', 'a>b']);
  });
});

describe('lists', () => {
  it('`;`, newline, `&&` and `||` separate commands', () => {
    const r = parse('echo a; echo b\necho c && echo d || echo e');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.list).toHaveLength(3);
    expect(r.list[2]?.rest.map((x) => x.op)).toEqual(['&&', '||']);
  });
  it('splitScript keeps a quoted newline, a continuation and a trailing && with their command', () => {
    expect(splitScript("echo 'a\nb' > f\necho c \\\nd\necho e &&\necho f\n# comment\n")).toEqual([
      "echo 'a\nb' > f",
      'echo c \\\nd',
      'echo e &&\necho f',
      '# comment',
    ]);
  });
});

describe('errors (BusyBox ash wording)', () => {
  it('an unterminated quote is incomplete input; at the end of input it is `unterminated quoted string`', () => {
    expect(error("echo 'abc")).toBe('incomplete:quote');
    expect(error('echo "abc')).toBe('incomplete:quote');
    expect(tokenize("echo 'abc").ok).toBe(false);
  });
  it('misplaced operators are syntax errors', () => {
    expect(error(';')).toBe('sh: syntax error: unexpected ";"\n');
    expect(error('echo a;;')).toBe('sh: syntax error: unexpected ";;"\n');
    expect(error('echo >')).toBe('sh: syntax error: unexpected newline\n');
    expect(error('echo > ;')).toBe('sh: syntax error: unexpected ";"\n');
    expect(error('&& echo')).toBe('sh: syntax error: unexpected "&&"\n');
    expect(error('echo a(b')).toBe('sh: syntax error: unexpected "("\n');
  });
  it('unsupported sh features say so', () => {
    expect(error('cat trace & head')).toBe('sh: background jobs (&) are not supported by the kprobesim shell\n');
    expect(error('echo $(ls)')).toBe('sh: command substitution and arithmetic ($(…)) are not supported by the kprobesim shell\n');
    expect(error('for i in 1; do echo; done')).toBe('sh: shell keywords ("for") are not supported by the kprobesim shell\n');
    expect(error('echo ${a b}')).toBe('sh: syntax error: bad substitution\n');
  });
  it('a trailing && waits for more input', () => {
    expect(error('echo a &&')).toBe('incomplete:operator');
  });
});
