// Pipelines and the text programs of the kprobesim shell (grep, head, tail, wc, sort), as
// BusyBox sh and its applets behave: a pipeline's status is its last command's, grep exits 1 when
// nothing matched and 2 on an error, a bad or pathological pattern is a message, never a crash or
// a hang. Expected outputs are worked out from what the programs do, over inputs the tests type.

import { describe, expect, it } from 'vitest';
import { FakeBackend } from './fakes/fake-backend.ts';
import { ShellSession, type RunResult } from '../src/shell/session.ts';
import { RecordedSession } from '../src/session/recorded.ts';

const T = '/sys/kernel/tracing';

function shell(): (text: string) => RunResult {
  const sh = new ShellSession(new FakeBackend(), { cwd: T });
  return (text) => sh.runScript(text);
}

/** Lines a..e in a scrambled order, as `echo -e` writes them. */
const LETTERS = "echo -e 'delta\\nalpha\\necho\\nbravo\\ncharlie'";

describe('pipelines', () => {
  it('connect one command’s output to the next one’s input; the status is the last command’s', () => {
    const run = shell();
    expect(run(`${LETTERS} | sort`)).toMatchObject({ stdout: 'alpha\nbravo\ncharlie\ndelta\necho\n', stderr: '', status: 0 });
    expect(run(`${LETTERS} | sort | head -n 2 | tail -1`)).toMatchObject({ stdout: 'bravo\n', status: 0 });
    // `false` last: 1, whatever came before; a failing first command does not decide it.
    expect(run('echo a | false').status).toBe(1);
    expect(run('cat /nope | echo still')).toMatchObject({ stdout: 'still\n', stderr: "cat: can't open '/nope': No such file or directory\n", status: 0 });
  });

  it('grep’s statuses drive && and ||: 0 on a match, 1 on none', () => {
    const run = shell();
    expect(run('echo abc | grep b && echo yes')).toMatchObject({ stdout: 'abc\nyes\n', status: 0 });
    expect(run('echo abc | grep x || echo none')).toMatchObject({ stdout: 'none\n', status: 0 });
    expect(run('echo abc | grep x\necho $?').stdout).toBe('1\n');
    expect(run('echo abc | nosuch\necho $?')).toMatchObject({ stdout: '127\n', stderr: 'sh: nosuch: not found\n' });
  });

  it('each command of a pipeline runs in a child: cd and exit there leave the shell as it was', () => {
    const run = shell();
    expect(run('cd / | true\npwd\nexit 5 | true\necho still here')).toMatchObject({ stdout: `${T}\nstill here\n`, status: 0 });
  });

  it('a `|` at the end of a line continues the command on the next line', () => {
    const run = shell();
    expect(run(`${LETTERS} |\n  grep -c a`).stdout).toBe('4\n');
    expect(run('echo a |').stderr).toBe('sh: syntax error: unexpected end of file\n');
  });
});

describe('grep', () => {
  const run = shell();
  const grep = (args: string, input = LETTERS) => run(`${input} | grep ${args}`);

  it('selects lines with -i -v -c -n -w, and prefixes names with several files', () => {
    expect(grep("'ha'").stdout).toBe('alpha\ncharlie\n');
    expect(grep("-i 'HA'").stdout).toBe('alpha\ncharlie\n');
    // -i folds the listed characters before `^` negates them: `[^a]` matches neither a nor A.
    expect(run("echo A | grep -i '[^a]'").status).toBe(1);
    expect(grep("-v 'a'").stdout).toBe('echo\n');
    expect(grep("-c 'a'").stdout).toBe('4\n');
    expect(grep("-n 'o'").stdout).toBe('3:echo\n4:bravo\n');
    expect(grep("-vn 'a'").stdout).toBe('3:echo\n');
    // -w: whole words only; `read` is inside `vfs_read`, where `_` is a word character.
    expect(run("echo -e 'vfs_read\\nread it' | grep -w read").stdout).toBe('read it\n');
    // `-` is standard input; two inputs: each line carries its file's name.
    expect(run('echo hello | grep -c l - /nope')).toMatchObject({ stdout: '(standard input):1\n', stderr: 'grep: /nope: No such file or directory\n', status: 2 });
  });

  it('reads basic regular expressions by default, extended ones with -E, fixed strings with -F', () => {
    expect(grep("'^[a-c]'").stdout).toBe('alpha\nbravo\ncharlie\n');
    expect(grep("'o$'").stdout).toBe('echo\nbravo\n');
    // BRE: `+`, `?`, `|`, `(` and `{` are ordinary; `\\+` `\\|` `\\(…\\)` `\\{m\\}` are operators.
    expect(run("echo 'a+b' | grep 'a+b'").stdout).toBe('a+b\n');
    expect(run("echo 'aab' | grep 'a\\+b'").stdout).toBe('aab\n');
    expect(grep("'alpha\\|echo'").stdout).toBe('alpha\necho\n');
    expect(run("echo 'ababx' | grep '\\(ab\\)\\{2\\}x'").status).toBe(0);
    expect(run("echo 'abx' | grep '\\(ab\\)\\{2\\}x'").status).toBe(1);
    // ERE: the same operators without backslashes.
    expect(grep("-E 'alpha|echo'").stdout).toBe('alpha\necho\n');
    expect(run("echo 'ababx' | grep -E '(ab){2}x'").status).toBe(0);
    expect(run("echo 'aab' | grep -E 'a+b'").status).toBe(0);
    expect(run("echo 'a+b' | grep -E 'a+b'").status).toBe(1);
    // -F: nothing is special.
    expect(run("echo 'a.c' | grep -F 'a.c'; echo 'abc' | grep -F 'a.c'; echo $?").stdout).toBe('a.c\n1\n');
    // Several patterns: -e, each may match.
    expect(grep('-e alpha -e bravo').stdout).toBe('alpha\nbravo\n');
    expect(grep("'[[:upper:]]'").status).toBe(1);
  });

  it('a bad pattern is an error message and status 2, never a crash', () => {
    expect(grep("'a\\('")).toMatchObject({ stdout: '', stderr: "grep: bad regex 'a\\(': Unmatched ( or \\(\n", status: 2 });
    expect(grep("'[a'").stderr).toBe("grep: bad regex '[a': Unmatched [, [^, [:, [., or [=\n");
    expect(grep("-E 'a)'").stderr).toBe("grep: bad regex 'a)': Unmatched ) or \\)\n");
    expect(grep("'[z-a]'").stderr).toBe("grep: bad regex '[z-a]': Invalid range end\n");
    expect(grep("'[[:nope:]]'").stderr).toBe("grep: bad regex '[[:nope:]]': Invalid character class name\n");
    expect(grep("'x\\'").stderr).toBe("grep: bad regex 'x\\': Trailing backslash\n");
    expect(grep("'\\(a\\)\\1'").stderr).toBe("grep: bad regex '\\(a\\)\\1': back-references (\\1…\\9) are not supported by the kprobesim shell\n");
    // Counted repetition that would build a huge automaton is refused, not built.
    expect(grep("-E '(a{1000}){1000}'").stderr).toBe("grep: bad regex '(a{1000}){1000}': Regular expression too big\n");
    expect(grep('-z x')).toMatchObject({ stderr: expect.stringMatching(/^grep: invalid option -- 'z'\n/), status: 2 });
    expect(run('grep')).toMatchObject({ stderr: expect.stringMatching(/^Usage: grep /), status: 2 });
    expect(run('grep -e')).toMatchObject({ stderr: expect.stringMatching(/^grep: option requires an argument -- 'e'\nUsage: grep /), status: 2 });
  });

  it('patterns that make a backtracking matcher take exponential time finish at once', () => {
    // A backtracking engine tries 2^40 ways to split the a's before failing on the missing b.
    const as = 'a'.repeat(40);
    expect(run(`echo ${as} | grep -E '(a*)*b'`).status).toBe(1);
    expect(run(`echo ${as} | grep '\\(a\\|aa\\)*c'`).status).toBe(1);
    expect(run(`echo ${as}b | grep -cE '(a+)+b'`).stdout).toBe('1\n');
  });
});

describe('head, tail, wc, sort', () => {
  const run = shell();

  it('head and tail keep the first or last lines (-n N, -N, tail -n +N)', () => {
    expect(run(`${LETTERS} | head -n 2`).stdout).toBe('delta\nalpha\n');
    expect(run(`${LETTERS} | head -1`).stdout).toBe('delta\n');
    expect(run(`${LETTERS} | tail -n 2`).stdout).toBe('bravo\ncharlie\n');
    expect(run(`${LETTERS} | tail -n +4`).stdout).toBe('bravo\ncharlie\n');
    expect(run(`${LETTERS} | head -n x`)).toMatchObject({ stderr: "head: invalid number 'x'\n", status: 1 });
  });

  it('wc prints one count bare, several in %9lu columns (lines, words, bytes)', () => {
    expect(run(`${LETTERS} | wc -l`).stdout).toBe('5\n');
    expect(run("echo 'one two  three' | wc -w").stdout).toBe('3\n');
    // "one two\n" is 8 bytes; the default is all three columns.
    expect(run("echo 'one two' | wc").stdout).toBe(`${'1'.padStart(9)} ${'2'.padStart(9)} ${'8'.padStart(9)}\n`);
    expect(run("echo 'one two' | wc -lc").stdout).toBe(`${'1'.padStart(9)} ${'8'.padStart(9)}\n`);
  });

  it('sort: bytewise, -n numerically, -r reversed, -u unique', () => {
    const numbers = "echo -e '10\\n9\\n100\\n9\\n-1'";
    expect(run(`${numbers} | sort`).stdout).toBe('-1\n10\n100\n9\n9\n');
    expect(run(`${numbers} | sort -n`).stdout).toBe('-1\n9\n9\n10\n100\n');
    expect(run(`${numbers} | sort -nr`).stdout).toBe('100\n10\n9\n9\n-1\n');
    expect(run(`${numbers} | sort -nu`).stdout).toBe('-1\n9\n10\n100\n');
    expect(run(`${numbers} | sort -q`)).toMatchObject({ stderr: "sort: invalid option -- 'q'\n", status: 1 });
  });
});

describe('the seed’s pipeline on the simulated kernel', () => {
  it('`cat /proc/kallsyms | grep ADDR` finds the symbol at an address (kallsyms prints it without 0x)', () => {
    const s = new RecordedSession({ cpus: 1, seed: 1, kernel: '6.17', arch: 'arm64' });
    const kallsyms = s.run('cat /proc/kallsyms').stdout.split('\n');
    const line = kallsyms.find((l) => / T kernel_clone$/.test(l))!;
    const addr = line.split(' ')[0]!;
    expect(s.run(`cat /proc/kallsyms | grep ${addr}`)).toMatchObject({ stdout: `${line}\n`, status: 0 });
    // Seed 003 typed the address with 0x: kallsyms has no such text, so grep finds nothing.
    expect(s.run(`cat /proc/kallsyms | grep 0x${addr}`)).toMatchObject({ stdout: '', status: 1 });
    expect(s.run('cat /proc/kallsyms | grep -w vfs_read | wc -l').stdout).toBe('1\n');
  });
});
