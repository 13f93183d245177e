// `kprobesim shell --echo`: reading a script, each command is printed as typed after `+ ` (sh -x's
// PS4) before its output, so a transcript shows what produced each output. Blank lines and
// comments are not commands (sh -x prints nothing for them); a command continued on more lines
// shows them after `> `.

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/kprobesim.js');
const shell = (input: string, ...args: string[]) => spawnSync(process.execPath, [BIN, 'shell', '--cpus', '1', ...args], { encoding: 'utf8', input });

describe('kprobesim shell --echo', () => {
  it('prints each command before its output; errors stay on standard error', () => {
    const r = shell("# set up\necho hi\n\ncat /nope\necho 'a\nb' | wc -l\necho 'p:k vfs_read' > kprobe_events\ncat kprobe_events\n", '--echo');
    expect(r.stdout).toBe("+ echo hi\nhi\n+ cat /nope\n+ echo 'a\n> b' | wc -l\n2\n+ echo 'p:k vfs_read' > kprobe_events\n+ cat kprobe_events\np:kprobes/k vfs_read\n");
    expect(r.stderr).toBe("cat: can't open '/nope': No such file or directory\n");
    expect(r.status).toBe(0);
  });

  it('without --echo only the output is printed', () => {
    expect(shell('echo hi\n').stdout).toBe('hi\n');
  });
});
