import type { LoggedEvent } from '../src/model/events.ts';
import { toHex } from '../src/model/hex.ts';
import type { Setup } from '../src/model/setup.ts';

// A test's checker of decision labels against what the step did: each kind of label
// (src/scheduler/label.ts) names a kernel function or task action, and that function's step emits
// events of known types (src/kprobes/cpu-step.ts, src/kprobes/api-step.ts, the docs/events.md
// catalog). Given a label and the events of its step (on its CPU), it returns null when the events
// are what the label says, else why not. A label of no known kind is an error too, so every kind
// a run shows is checked.

type Ev = LoggedEvent & Record<string, unknown>;

/** Handler steps (the scenario's `do`) and the events the step of each emits (cpu-step.ts handlerStep). */
const HANDLER_OP_EVENTS: Readonly<Record<string, readonly string[]>> = {
  spin: ['handler.spin'],
  print: ['printk'],
  call: ['func.call'],
  return: ['handler.step', 'handler.exit'],
  override_return: ['kprobe.override', 'handler.exit'],
  jump: ['kprobe.jump', 'handler.exit'],
  set_reg: ['kprobe.set_reg'],
  set_data: ['kretprobe.data', 'handler.step'],
  set_retval: ['kretprobe.set_retval'],
  sleep: ['bug.atomic_sleep'],
  dump_stack: ['printk'],
  fault: ['kprobe.fault'],
  rp_take: ['kretprobe.take', 'kretprobe.miss'],
  rp_hook: ['kretprobe.hook'],
  callback: ['handler.callback'],
  c_handler: ['c.frame', 'c.step', 'handler.step', 'handler.exit'],
};

/** A kprobes call's step (the call graph's state key, src/machines/kprobe-call.ts) and the events its step emits (api-step.ts). */
const CALL_STEP_EVENTS: Readonly<Record<string, readonly string[]>> = {
  mutex_lock: ['mutex.lock', 'mutex.wait'],
  hlist_add_head_rcu: ['kprobe.insert', 'text.arm'],
  arm_kprobe: ['text.arm'],
  text_poke_sync: ['text.sync.end'],
  mutex_unlock: ['mutex.unlock'],
  __disable_kprobe: ['kprobe.disable', 'mutex.unlock', 'kprobe.returned'],
  hlist_del_rcu: ['kprobe.unlink'],
  synchronize_rcu: ['rcu.gp.start', 'rcu.gp.end', 'kprobe.batch.next'],
  enable_kprobe: ['kprobe.enable', 'kprobe.returned'],
  write_enabled_file_bool: ['kprobes.all_disarmed', 'kprobes.enabled_written'],
  arm_all_kprobes: ['text.arm', 'text.disarm', 'kprobes.enabled_written'],
  kprobes_module_callback: ['module.done'],
};

/** The kprobes calls a task's operation starts (startCall in api-step.ts) and their first events. */
const CALL_START_EVENTS: Readonly<Record<string, readonly string[]>> = {
  register_kprobe: ['kprobe.register', 'kprobe.register.fail'],
  register_kretprobe: ['kprobe.register', 'kprobe.register.fail'],
  unregister_kprobe: ['kprobe.unregister'],
  unregister_kretprobe: ['kprobe.unregister'],
  enable_kprobe: ['kprobe.enable_kprobe'],
  disable_kprobe: ['kprobe.disable_kprobe'],
  clear_kprobe: ['kprobe.clear', 'kernel.oops'],
  register_kprobes: ['kprobe.batch', 'kprobe.batch.return'],
  unregister_kprobes: ['kprobe.batch', 'kprobe.batch.return'],
  insmod: ['module.insmod'],
  rmmod: ['module.rmmod', 'module.busy'],
  module_live: ['module.init', 'module.rmmod'],
};

/** A task's own operation (runTask's op names) and its event. */
const TASK_OP_EVENTS: Readonly<Record<string, readonly string[]>> = {
  wakes: ['task.wake'],
  exits: ['func.call'],
  'waits for input': ['task.wait_input'],
  printk: ['printk'],
  sleep: ['task.sleep'],
  user_int3: ['trap.user'],
  wait_children: ['task.wait_children'],
  ftrace_failure: ['ftrace.killed'],
  c_load: ['c.load'],
};

export function checkLabel(setup: Setup, label: string, cpu: number, events: readonly Ev[]): string | null {
  const prefix = `cpu${cpu}: `;
  if (!label.startsWith(prefix)) return `label ${JSON.stringify(label)} does not name cpu${cpu}`;
  const body = label.slice(prefix.length);
  const types = events.map((e) => e.type as string);
  const has = (...want: string[]) => (want.some((t) => types.includes(t)) ? null : `${JSON.stringify(label)}: expected one of ${want.join(', ')} in the step, got ${types.join(', ') || 'nothing'}`);
  const first = (type: string) => events.find((e) => e.type === type);
  const atAddress = (fn: string, off: string) => {
    const sym = setup.symbols.lookup(fn);
    if (sym === undefined) return `${JSON.stringify(label)}: no symbol ${fn}`;
    const ip = toHex(sym.addr + BigInt(`0x${off}`));
    // The instruction at fn+off ran (insn.exec, a call, a return), or its effect did (an exit, a
    // fork's return, a return into the kretprobe trampoline, a fault), or its C code stepped.
    if (events.some((e) => e.ip === ip || e.addr === ip)) return null;
    return has('task.exit', 'task.fork', 'kretprobe.trampoline', 'c.step', 'c.frame', 'c.ret', 'kernel.oops');
  };
  let m: RegExpExecArray | null;
  if ((m = /^switch to (\S+) \(pid (\d+)\)$/.exec(body))) {
    return first('sched.switch')?.next === Number(m[2]) ? null : `${JSON.stringify(label)}: no sched.switch to pid ${m[2]}`;
  }
  if (body === 'timer interrupt') return has('irq.enter');
  if (/^int3 \S+$/.test(body)) return has('kprobe.trap');
  if (/^ftrace \S+$/.test(body)) return has('kprobe.ftrace.hit', 'kprobe.ftrace.miss', 'kprobe.ftrace.recursion', 'insn.exec');
  if (/^optimized \S+$/.test(body)) return has('kprobe.opt.hit', 'kprobe.opt.miss', 'insn.exec');
  if (body === 'int3 recovered, no kprobe there') return has('kprobe.recovered');
  if (body === 'int3 with no kprobe: oops') return has('kernel.oops');
  if ((m = /^(\S+) (hit|miss)$/.exec(body))) {
    const e = first(`kprobe.${m[2]}`);
    return e !== undefined && (e.probes as string[]).join(',') === m[1] ? null : `${JSON.stringify(label)}: no kprobe.${m[2]} of ${m[1]} (got ${types.join(', ')})`;
  }
  if (/^\S+ unrecoverable reentry$/.test(body)) return has('kprobe.bug');
  if ((m = /^(\S+) (pre|post|return)-handler(?: (returns|skipped|runs (\S+)\+0x([0-9a-f]+)|(\w+)))?$/.exec(body))) {
    const [, probe, phaseName, what, fn, off, op] = m;
    const phase = phaseName === 'return' ? 'ret' : phaseName;
    if (what === undefined) return first('handler.enter')?.probe === probe && first('handler.enter')?.phase === phase ? null : `${JSON.stringify(label)}: no handler.enter of ${probe} ${phase} (got ${types.join(', ')})`;
    if (what === 'returns') return first('handler.exit')?.probe === probe ? null : `${JSON.stringify(label)}: no handler.exit of ${probe}`;
    if (what === 'skipped') return ['disabled', 'gone'].includes(first('handler.skip')?.reason as string) ? null : `${JSON.stringify(label)}: no handler.skip (disabled/gone)`;
    if (fn !== undefined) return atAddress(fn, off!);
    const allowed = HANDLER_OP_EVENTS[op!];
    return allowed === undefined ? `${JSON.stringify(label)}: unknown handler step ${op}` : has(...allowed);
  }
  if (/^\S+ has no (pre|post|return)-handler$/.test(body)) return first('handler.skip')?.reason === 'no_handler' ? null : `${JSON.stringify(label)}: no handler.skip no_handler`;
  if (/^single-step \S+$/.test(body)) return has('kprobe.ss');
  if (/^\S+ single-step done$/.test(body)) return has('kprobe.ss.done');
  if (/^\S+ optimized done$/.test(body)) return has('kprobe.opt.done');
  if (/^\S+ pre-handlers done$/.test(body)) return has('kprobe.ftrace.post', 'kprobe.done');
  if (/^\S+ done$/.test(body)) return has('kprobe.done');
  if (/^\S+ boost$/.test(body)) return has('kprobe.boost');
  if (/^\S+ detour$/.test(body)) return has('kprobe.detour');
  if ((m = /^kretprobe trampoline returns from (\S+)$/.exec(body))) return first('kretprobe.return')?.fn === m[1] ? null : `${JSON.stringify(label)}: no kretprobe.return from ${m[1]}`;
  if ((m = /^kretprobe trampoline (\S+)$/.exec(body))) return has('kretprobe.ret_handler', 'kretprobe.put');
  if (/^\S+ instance put back$/.test(body)) return first('kretprobe.put')?.reason === 'returned' ? null : `${JSON.stringify(label)}: no kretprobe.put (returned)`;
  if ((m = /^\S+ runs (\S+)\+0x([0-9a-f]+)$/.exec(body))) return atAddress(m[1]!, m[2]!);
  if ((m = /^\S+ (register|unregister)_kprobes\(.*\) (?:calls (\w+)\(|returns$|synchronize_rcu$)/.exec(body))) {
    if (m[2] !== undefined) return has(...CALL_START_EVENTS[m[2]]!);
    return has('kprobe.batch.return', 'rcu.gp.start', 'rcu.gp.end');
  }
  if ((m = /^\S+ calls (\w+)\((.*)\)$/.exec(body))) {
    const allowed = CALL_START_EVENTS[m[1]!];
    return allowed === undefined ? `${JSON.stringify(label)}: unknown call ${m[1]}` : has(...allowed);
  }
  if ((m = /^\S+ \w+\(.*\) (\w+)$/.exec(body))) {
    const allowed = CALL_STEP_EVENTS[m[1]!];
    return allowed === undefined ? `${JSON.stringify(label)}: unknown call step ${m[1]}` : has(...allowed);
  }
  if ((m = /^\S+ calls (\S+)$/.exec(body))) {
    const call = first('func.call');
    if (call !== undefined && call.fn === (setup.symbols.lookup(m[1]!)?.name ?? m[1])) return null;
    return has('module.noref', 'c.frame', 'c.step');
  }
  if ((m = /^\S+ writes (\w+)$/.exec(body))) return has(m[1] === 'kprobes_enabled' ? 'kprobes.enabled_write' : 'kprobes.optimization');
  if ((m = /^\S+ (wakes|exits|waits for input|printk|sleep|user_int3|wait_children|ftrace_failure|c_load)$/.exec(body))) return has(...TASK_OP_EVENTS[m[1]!]!);
  return `${JSON.stringify(label)}: a label of no kind the checker knows`;
}
