import type { AddressedSymbol } from '../kernel/index.ts';
import type { TaskOp } from '../scenario/types.ts';
import type { ChildTask, KernelCommandInfo } from '../shell/backend.ts';

// The shell's kernel commands (`run`, `tick`, `call`: KernelBackend.runCommand) and its forked
// children, as operations of the shell task (TaskOp). Each is what a tiny userspace program would
// make the kernel do, no more: a command opens a file and reads it; a shell forks once more.

export const KERNEL_COMMANDS: readonly KernelCommandInfo[] = [
  { name: 'run', usage: 'run COMMAND [ARG]...', summary: 'the shell forks; the child, named COMMAND, opens a file and reads it (a child `sh` forks once more)' },
  { name: 'tick', usage: 'tick [N]', summary: 'let N milliseconds pass (default 1) while the shell sleeps' },
  { name: 'call', usage: 'call FUNCTION [N]', summary: 'the shell calls a kernel function of the image N times (default 1)' },
];

export type KernelCommandOps = { readonly ops: readonly TaskOp[] } | { readonly error: string; readonly status: number };

const SHELLS = new Set(['sh', 'ash', 'bash', 'dash']);
const MAX_CALLS = 100_000;
/** Milliseconds one `tick` may skip (the model's longest sleep is ten seconds). */
const MAX_TICK_MS = 10_000;

function count(cmd: string, text: string | undefined, max: number): number | string {
  if (text === undefined) return 1;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    return `${cmd}: invalid number '${text}' (1 to ${max})\n`;
  }
  return Number(text);
}

/** The longest sleep one operation may hold (the scenario schema's bound, ten seconds). */
const MAX_SLEEP_TICKS = 10_000_000;

/** The system-call paths a shell's child takes, through the wrappers where the image has them. */
function syscalls(lookup: (name: string) => AddressedSymbol | undefined) {
  // arm64's stack traces show the wrappers; the x86_64 tasks call the syscall bodies, as `run` does.
  const sys = (wrapper: string, fn: string) => lookup(wrapper)?.name ?? fn;
  return { open: sys('__arm64_sys_openat', 'do_sys_open'), read: sys('__arm64_sys_read', 'ksys_read') };
}

/**
 * The shell's forks for a command line's programs: one `fork` per child, whose program is its
 * steps (execve is do_execve; a sleep of more than ten seconds is several sleeps). One tick of
 * the model's clock is a microsecond.
 */
export function childrenOps(children: readonly ChildTask[], lookup: (name: string) => AddressedSymbol | undefined): TaskOp[] {
  const sys = syscalls(lookup);
  return children.map((child): TaskOp => {
    const program: TaskOp[] = [];
    for (const step of child.steps) {
      if (step.kind === 'exec') program.push({ op: 'call', fn: 'do_execve' });
      else if (step.kind === 'open') program.push({ op: 'call', fn: sys.open });
      else if (step.kind === 'read') program.push({ op: 'call', fn: sys.read });
      else for (let left = step.us; left > 0; left -= MAX_SLEEP_TICKS) program.push({ op: 'sleep', ticks: Math.min(left, MAX_SLEEP_TICKS) });
    }
    return { op: 'fork', comm: child.comm, program };
  });
}

export function kernelCommandOps(argv: readonly string[], lookup: (name: string) => AddressedSymbol | undefined): KernelCommandOps {
  const [name, ...args] = argv;
  switch (name) {
    case 'run': {
      const cmd = args[0];
      if (cmd === undefined || cmd === '') return { error: 'run: missing COMMAND\nusage: run COMMAND [ARG]...\n', status: 1 };
      const comm = (cmd.split('/').pop() || cmd).slice(0, 15);
      // Through the system-call wrappers where the image has them (arm64's stack traces show them).
      const sys = (wrapper: string, fn: string) => lookup(wrapper)?.name ?? fn;
      const work: TaskOp[] = [
        { op: 'call', fn: sys('__arm64_sys_openat', 'do_sys_open') },
        { op: 'call', fn: sys('__arm64_sys_read', 'ksys_read') },
      ];
      if (SHELLS.has(comm)) work.push({ op: 'fork', comm, program: [] });
      return { ops: [{ op: 'fork', comm, program: work }] };
    }
    case 'tick': {
      const n = count('tick', args[0], MAX_TICK_MS);
      if (typeof n === 'string') return { error: n, status: 1 };
      // One tick of the model's clock is a microsecond.
      return { ops: [{ op: 'sleep', ticks: n * 1000 }] };
    }
    case 'call': {
      const fn = args[0];
      if (fn === undefined) return { error: 'call: missing FUNCTION\nusage: call FUNCTION [N]\n', status: 1 };
      const sym = lookup(fn);
      if (sym === undefined) return { error: `call: ${fn}: no such kernel function\n`, status: 1 };
      if (sym.kind !== 'func') return { error: `call: ${fn}: not a function\n`, status: 1 };
      if (sym.effect === 'exit') return { error: `call: ${fn}: the shell would not come back from it\n`, status: 1 };
      const n = count('call', args[1], MAX_CALLS);
      if (typeof n === 'string') return { error: n, status: 1 };
      return { ops: [{ op: 'call', fn: sym.name, ...(n > 1 ? { times: n } : {}) }] };
    }
    default:
      return { error: `${name ?? ''}: not a kernel command\n`, status: 127 };
  }
}
