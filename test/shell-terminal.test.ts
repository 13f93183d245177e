import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// `kprobesim shell` on a real terminal: util-linux script(1) gives it a pseudo-terminal. Keys are
// typed one step at a time, each after the screen shows what the step waits for (a prompt), as a
// person would: a Ctrl-C sent before readline has put the terminal in raw mode would be the tty's
// SIGINT, not a key.

const BIN = resolve('bin/kprobesim.js');
const dir = mkdtempSync(join(tmpdir(), 'kprobesim-terminal-'));
const PROMPT = '[root@kprobesim tracing]# ';

/** Strip terminal control sequences and carriage returns before newlines: the text as seen. */
const text = (screen: string): string => screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r+\n/g, '\n');
const count = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

interface Step {
  /** Type this once the screen (control sequences removed) satisfies `after`. */
  readonly after: (screen: string) => boolean;
  readonly keys: string;
}

/** Runs the shell on a pty, typing each step's keys when its condition holds; the whole screen. */
function onTerminal(steps: readonly Step[], args = '--cpus 1'): Promise<{ screen: string; status: number | null }> {
  return new Promise((done) => {
    const child = spawn('script', ['-qec', `${process.execPath} ${BIN} shell ${args}`, '/dev/null'], { cwd: dir });
    let raw = '';
    let next = 0;
    const advance = (): void => {
      while (next < steps.length && steps[next]!.after(text(raw))) child.stdin.write(steps[next++]!.keys);
    };
    child.stdout.on('data', (d: Buffer) => {
      raw += d.toString('utf8');
      advance();
    });
    child.on('close', (status) => done({ screen: text(raw), status }));
  });
}

const prompts = (n: number) => (screen: string) => count(screen, PROMPT) >= n;

describe('kprobesim shell on a terminal: Ctrl-C', () => {
  it('drops the line being typed, as sh does: Enter afterwards runs nothing', async () => {
    const r = await onTerminal([
      { after: prompts(1), keys: 'echo hello' },
      { after: (s) => s.includes('echo hello'), keys: '\x03' },
      { after: prompts(2), keys: '\r' },
      { after: prompts(3), keys: 'echo after\r' },
      { after: (s) => /^after$/m.test(s), keys: 'exit 4\r' },
    ]);
    expect(r.status).toBe(4);
    expect(r.screen).toContain('echo hello^C');
    // `hello` was typed (and echoed) but never printed as a command's output.
    expect(r.screen).not.toMatch(/^hello$/m);
    expect(r.screen).toMatch(/^after$/m);
  });

  it('an abandoned `echo … > kprobe_events` registers nothing', async () => {
    const r = await onTerminal([
      { after: prompts(1), keys: "echo 'p:abandoned kernel_clone' > kprobe_events" },
      { after: (s) => s.includes('> kprobe_events'), keys: '\x03' },
      { after: prompts(2), keys: '\r' },
      { after: prompts(3), keys: 'cat kprobe_events; echo end-of-list\r' },
      { after: (s) => /end-of-list\n/.test(s), keys: 'exit\r' },
    ]);
    expect(r.status).toBe(0);
    expect(r.screen).not.toContain('p:kprobes/abandoned');
    expect(r.screen).toMatch(/# cat kprobe_events; echo end-of-list\nend-of-list\n/);
  });
});

describe('kprobesim shell on a terminal: Tab', () => {
  it('completes a path of the simulated tree on the command line', async () => {
    const r = await onTerminal([
      { after: prompts(1), keys: 'ls /sys/kernel/debug/kpr' },
      { after: (s) => s.includes('debug/kpr'), keys: '\t' },
      { after: (s) => s.includes('/sys/kernel/debug/kprobes/'), keys: '\r' },
      { after: prompts(2), keys: 'exit\r' },
    ]);
    expect(r.status).toBe(0);
    // The completed directory was listed.
    expect(r.screen).toMatch(/# ls \/sys\/kernel\/debug\/kprobes\/\nblacklist\nenabled\nlist\n/);
  });
});
