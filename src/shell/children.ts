// Which children the shell forks for a pipeline, and what each does in the kernel, as BusyBox ash
// runs commands:
//  * a program (an applet: cat, grep, ls, sleep, dmesg, …) runs in a forked child that execs it,
//    opens each file it reads and reads the ones that opened (and sleeps, for sleep);
//  * a builtin (echo, cd, …) alone runs in the shell itself, no fork;
//  * a command that is not found alone forks nothing either: ash looks it up before forking and
//    prints `sh: NAME: not found` itself;
//  * in a pipeline of several commands every command runs in a forked child (a builtin or an
//    unknown name in a child that is still `sh` and never execs).
// The kernel work of all children is done before their output is worked out, so a program that
// reads a tracefs file sees the records of its own fork and reads, as in ftrace (seed 003's
// `cat trace` shows its own kernel_clone).

import type { ChildStep, ChildTask } from './backend.ts';
import { BUILTINS, type ShellState } from './builtins.ts';
import { APPLETS, type Applet } from './utils/index.ts';

/** comm is at most 15 characters (TASK_COMM_LEN), the program's base name. */
const commOf = (name: string): string => (name.split('/').pop() || name).slice(0, 15);

const SHELL_CHILD: ChildTask = { comm: 'sh', steps: [] };

/** The children for the commands of one pipeline, each given as its expanded argv. */
export function childrenOf(commands: readonly (readonly string[])[], state: ShellState): ChildTask[] {
  const alone = commands.length === 1;
  const children: ChildTask[] = [];
  for (const argv of commands) {
    const name = argv[0];
    const applet = name === undefined ? undefined : APPLETS.get(name);
    // insmod and rmmod fork their own child when they run: their system call's result is their output.
    if (applet?.ownKernelWork === true) continue;
    if (name !== undefined && applet !== undefined && !Object.prototype.hasOwnProperty.call(BUILTINS, name)) {
      children.push({ comm: commOf(name), steps: [{ kind: 'exec' }, ...programWork(applet, argv, state)] });
    } else if (!alone) {
      children.push(SHELL_CHILD);
    }
  }
  return children;
}

/** What a program does in the kernel after its exec: open and read its inputs, then the rest. */
function programWork(applet: Applet, argv: readonly string[], state: ShellState): ChildStep[] {
  const steps: ChildStep[] = [];
  for (const path of applet.inputs(argv) ?? []) {
    if (path === '-') {
      steps.push({ kind: 'read' });
      continue;
    }
    // open(2) is made whether or not the file exists (it fails with ENOENT inside the kernel);
    // only a file that opened is read.
    steps.push({ kind: 'open' });
    if (state.vfs.resolve(state.cwd, path).ok) steps.push({ kind: 'read' });
  }
  steps.push(...(applet.extraWork?.(argv) ?? []));
  return steps;
}
