// The closed catalog of domain events (log contract v1). One table drives both the TypeScript
// types and the reader's per-line validation, so the two cannot drift apart. docs/events.md
// describes each type in prose; a test checks that every type here is documented there.

/** A 64-bit kernel address in JSON: "0xffffffff81000000". The model keeps addresses as bigint. */
export type Hex = `0x${string}`;

/** Field kinds the reader can check cheaply, line by line. */
export type FieldKind =
  | 'int'
  | 'int?'
  | 'hex'
  | 'hex?'
  | 'str'
  | 'str?'
  /** A string, or no such field (a field added after logs were written without it). */
  | 'str|absent'
  | 'bool'
  | 'int[]'
  | 'str[]'
  /** A JSON object whose shape the consumer checks (a scenario probe, task operations). */
  | 'obj'
  | 'obj[]'
  | readonly string[]; // an enumeration of allowed strings

type KindType<K> = K extends 'int'
  ? number
  : K extends 'int?'
    ? number | null
    : K extends 'hex'
      ? Hex
      : K extends 'hex?'
        ? Hex | null
        : K extends 'str'
          ? string
          : K extends 'str?'
            ? string | null
            : K extends 'str|absent'
              ? string
            : K extends 'bool'
              ? boolean
              : K extends 'int[]'
                ? readonly number[]
                : K extends 'str[]'
                  ? readonly string[]
                  : K extends 'obj'
                    ? JsonObject
                    : K extends 'obj[]'
                      ? readonly JsonObject[]
                      : K extends readonly (infer E)[]
                        ? E
                        : never;

/** A JSON object as it stands in a log line; its meaning is checked where it is used. */
export type JsonObject = { readonly [key: string]: unknown };

const PHASE = ['pre', 'post', 'ret'] as const;
const CTX = ['task', 'handler'] as const;
const STATUS = ['KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE', 'KPROBE_REENTER'] as const;
const END = ['done', 'deadlock', 'limit', 'task_limit', 'bug'] as const;
/** How the kernel's page-fault path ends for a faulting instruction (spec R57). */
const FAULT_OUTCOME = ['resolved', 'fixup', 'oops'] as const;

/** The catalog: event type → payload fields (besides the envelope seq, t, src, type). */
export const EVENT_FIELDS = {
  // ── scheduler (src "sched") ────────────────────────────────────────────────────────────────
  /** `label`: what the step does (src/scheduler/label.ts); logs written before it have none. */
  'sched.pick': { cpu: 'int', switch_to: 'int?', label: 'str|absent' },
  'sched.switch': { cpu: 'int', prev: 'int?', next: 'int', migrated: 'bool' },
  'time.advance': { to: 'int' },
  'kernel.deadlock': { blocked: 'int[]' },
  'run.limit': { steps: 'int' },
  'run.task_limit': { tasks: 'int', max_tasks: 'int' },

  // ── a CPU (src "cpu/N"): instruction execution ──────────────────────────────────────────────
  'insn.exec': { cpu: 'int', pid: 'int', ip: 'hex', ctx: CTX },
  'func.call': { cpu: 'int', pid: 'int', ip: 'hex?', fn: 'str', ctx: CTX },
  'func.ret': { cpu: 'int', pid: 'int', ip: 'hex', fn: 'str', ret: 'int', ctx: CTX },
  'task.fork': { cpu: 'int', pid: 'int', child: 'int', comm: 'str' },
  /** The child of a `fork` operation runs its own program under its own name from here on. */
  'task.exec': { cpu: 'int', pid: 'int', comm: 'str', prog: 'int' },
  /** An interactive task (a shell) ran out of operations: it waits for input (`input.ops`). */
  'task.wait_input': { cpu: 'int', pid: 'int' },
  'task.exit': { cpu: 'int', pid: 'int', code: 'int' },
  'task.sleep': { cpu: 'int', pid: 'int', until: 'int' },
  'task.wake': { cpu: 'int', pid: 'int' },
  printk: { cpu: 'int', pid: 'int', text: 'str' },
  'fault.inject': { cpu: 'int', pid: 'int', addr: 'hex', outcome: FAULT_OUTCOME },
  /** The local timer interrupt: its handler runs on the interrupted task's stack. */
  'irq.enter': { cpu: 'int', pid: 'int', fn: 'str' },
  /** The interrupt handler returned: the interrupted code goes on; `next` is when the timer is due again. */
  'irq.exit': { cpu: 'int', pid: 'int', next: 'int' },
  'insn.fault': { cpu: 'int', pid: 'int', ip: 'hex', outcome: FAULT_OUTCOME },
  /** R94: ftrace shut itself down after an internal failure (ftrace_kill); its probes are dead. */
  'ftrace.killed': { cpu: 'int', pid: 'int' },
  /** A task's call into a module being unloaded: no reference can be taken (-ENODEV), no call. */
  'module.noref': { cpu: 'int', pid: 'int', module: 'str', fn: 'str' },
  /** R44: a breakpoint trap in user mode: not kprobes' (kprobe_int3_handler returns at once); SIGTRAP for the task. */
  'trap.user': { cpu: 'int', pid: 'int' },

  // ── a CPU: the breakpoint path (spec §6) ────────────────────────────────────────────────────
  'kprobe.trap': { cpu: 'int', pid: 'int', addr: 'hex' },
  'kprobe.hit': { cpu: 'int', pid: 'int', addr: 'hex', probes: 'str[]' },
  'kprobe.miss': { cpu: 'int', pid: 'int', addr: 'hex', probes: 'str[]', running: 'hex', status: STATUS },
  'kprobe.bug': { cpu: 'int', pid: 'int', addr: 'hex', message: 'str' },
  'kprobe.recovered': { cpu: 'int', pid: 'int', addr: 'hex' },
  'kprobe.redirect': { cpu: 'int', pid: 'int', addr: 'hex', ip: 'hex', pc: 'int', skipped: 'str[]' },
  'kprobe.override': { cpu: 'int', pid: 'int', addr: 'hex', fn: 'str', ret: 'int', skipped: 'str[]' },
  'kprobe.jump': { cpu: 'int', pid: 'int', addr: 'hex', fn: 'str', skipped: 'str[]' },
  'kprobe.fault': { cpu: 'int', pid: 'int', probes: 'str[]', outcome: ['fault_handler', 'fixup', 'oops'] },
  'kernel.oops': { cpu: 'int', pid: 'int', addr: 'hex?', message: 'str' },
  'handler.enter': { cpu: 'int', probe: 'str', phase: PHASE },
  'handler.skip': { cpu: 'int', probe: 'str', phase: PHASE, reason: ['disabled', 'gone', 'no_handler'] },
  'handler.spin': { cpu: 'int', probe: 'str', left: 'int' },
  /** A TypeScript callback step returned these steps, which run in its place. */
  'handler.callback': { cpu: 'int', probe: 'str', name: 'str', steps: 'obj[]' },
  'handler.step': { cpu: 'int', probe: 'str', step: 'int' },
  /** A handler wrote a register of the probed context (pt_regs); later handlers of the hit see it. */
  'kprobe.set_reg': { cpu: 'int', probe: 'str', reg: 'str', value: 'int' },
  'handler.exit': { cpu: 'int', probe: 'str', phase: PHASE },
  'kprobe.ss': { cpu: 'int', addr: 'hex' },
  'kprobe.ss.done': { cpu: 'int', addr: 'hex' },
  'kprobe.ss.fault': { cpu: 'int', addr: 'hex' },
  /** R47.2: no single-step: the boosted copy runs with a jump back, current_kprobe is already NULL. */
  'kprobe.boost': { cpu: 'int', addr: 'hex' },
  // optimized probes (spec §11): the detour buffer instead of a single-step; the jump instead of int3
  'kprobe.detour': { cpu: 'int', addr: 'hex' },
  'kprobe.opt.hit': { cpu: 'int', pid: 'int', addr: 'hex', probes: 'str[]' },
  'kprobe.opt.miss': { cpu: 'int', pid: 'int', addr: 'hex', probes: 'str[]' },
  'kprobe.opt.done': { cpu: 'int', addr: 'hex' },
  // ftrace-based probes (spec §12): the fentry site calls kprobe_ftrace_handler, no trap, no step
  'kprobe.ftrace.hit': { cpu: 'int', pid: 'int', addr: 'hex', probes: 'str[]' },
  'kprobe.ftrace.miss': { cpu: 'int', pid: 'int', addr: 'hex', probes: 'str[]' },
  'kprobe.ftrace.recursion': { cpu: 'int', pid: 'int', addr: 'hex' },
  'kprobe.ftrace.post': { cpu: 'int', addr: 'hex' },
  'kprobe.done': { cpu: 'int', addr: 'hex' },
  'bug.atomic_sleep': { cpu: 'int', pid: 'int', preempt_count: 'int' },
  'ipi.ack': { cpu: 'int', sync: 'int' },
  'rcu.qs': { cpu: 'int', gp: 'int' },

  // ── a CPU: C code of a module (src/cexec; issue 11) ─────────────────────────────────────────
  /** load_module() copied a C module's data in (its `mem.alloc` events come first); its init runs next. */
  'c.load': { cpu: 'int', pid: 'int', module: 'str' },
  /**
   * A C frame's locals: a block of `size` bytes at `base` on the stack of the running context,
   * its parameters' slots holding the arguments (`init`: hex bytes, trailing zeros left out).
   */
  'c.frame': { cpu: 'int', pid: 'int', ctx: CTX, base: 'hex', size: 'int', init: 'str' },
  /**
   * One step of the innermost C frame's instruction: the writes it made ("0xADDR:HEXBYTES"), then
   * either the next pc (`next`, the instruction is done) or the values read so far (`r`, appended
   * to the frame's memo: the instruction goes on at its next step); `wait`: it called a function
   * whose return value is the next value. `acc`: its accesses of shared memory in order, as
   * KCSAN's instrumentation sees them ("[m]r|w:0xADDR:SIZE[:acquire|release|full]", m: marked).
   */
  'c.step': { cpu: 'int', pid: 'int', ctx: CTX, next: 'int?', r: 'str[]', w: 'str[]', acc: 'str[]', wait: 'bool' },
  /** A C function returns `value` (decimal, or "b" and hex bytes for a struct): its locals go, its caller gets it. */
  'c.ret': { cpu: 'int', pid: 'int', ctx: CTX, value: 'str' },
  /** Memory allocated: kmalloc'd (`heap`), a module's data at insmod, a handler's pt_regs, a kretprobe instance; `site`: who. */
  'mem.alloc': { cpu: 'int', pid: 'int', addr: 'hex', size: 'int', kind: ['data', 'rodata', 'stack', 'heap', 'regs', 'ri'], init: 'str', site: 'str' },
  /** kfree(): the block stays, marked free, so a later access is a use-after-free (`site`: the caller). */
  'mem.free': { cpu: 'int', pid: 'int', addr: 'hex', site: 'str' },
  /** A task's C code calls the kprobes API: the struct's fields as read now; the manager serves the call. */
  'c.api': {
    cpu: 'int', pid: 'int', fn: ['register_kprobe', 'unregister_kprobe', 'register_kretprobe', 'unregister_kretprobe', 'enable_kprobe', 'disable_kprobe'],
    probe: 'str', symbol: 'str?', offset: 'int', addr: 'hex?', disabled: 'bool', at: 'hex', addr_off: 'int', maxactive: 'int',
    /** Where the kernel writes back in the struct: p->flags, p->nmissed, a kretprobe's rp->nmissed (-1: none). */
    flags_off: 'int', nmissed_off: 'int', rp_nmissed_off: 'int',
  },
  /** wait(2) (`wait_children`): the task waits for its children, or goes on when none is left. */
  'task.wait_children': { cpu: 'int', pid: 'int' },
  /** msleep() and friends from a task's C code: it sleeps until `until`. */
  'c.sleep': { cpu: 'int', pid: 'int', until: 'int' },
  /** preempt_count changes by `delta`: spin_lock()/spin_unlock(), preempt_disable()/preempt_enable() in C code. */
  'c.preempt': { cpu: 'int', delta: 'int' },
  /** The CPU spins on a spinlock CPU `owner` holds (no progress this step). */
  'c.spin': { cpu: 'int', lock: 'hex', owner: 'int' },
  /** WARN_ON() fired at file:line (the kernel's "WARNING:" report is in the printk lines). */
  'kernel.warn': { cpu: 'int', pid: 'int', file: 'str', line: 'int' },
  // KUnit (kprobesim kunit; lib/kunit): a case's struct kunit, its checks that failed, its log
  /** kunit_init_test(): a struct kunit for case `name` at `test` (its `mem.alloc` comes first). */
  'kunit.init': { cpu: 'int', pid: 'int', test: 'hex', name: 'str' },
  /**
   * A KUNIT_EXPECT_* or KUNIT_ASSERT_* (`assert`) at file:line:col failed on `test`: its operands'
   * values (decimal, a string as JSON, or "null") and its _MSG text.
   */
  'kunit.fail': { cpu: 'int', pid: 'int', test: 'hex', assert: 'bool', file: 'str', line: 'int', col: 'int', values: 'str[]', message: 'str?' },
  /** kunit_info/kunit_warn/kunit_err(test, ...): the formatted text. */
  'kunit.log': { cpu: 'int', pid: 'int', test: 'hex', text: 'str' },
  /** kunit_skip/kunit_mark_skipped(test, ...): the case is skipped, for `reason`. */
  'kunit.skip': { cpu: 'int', pid: 'int', test: 'hex', reason: 'str' },
  /** kunit_try_catch_throw(): a failed assertion or kunit_skip() ends the test thread's call here. */
  'kunit.throw': { cpu: 'int', pid: 'int' },

  // ── the kprobe manager (src "kprobes"): register / unregister (spec §2, §3, §8) ────────────
  'kprobe.register': { cpu: 'int', pid: 'int', probe: 'str', symbol: 'str?', offset: 'int', addr: 'hex?' },
  'kprobe.register.fail': { cpu: 'int', pid: 'int', probe: 'str', errno: 'int', reason: 'str' },
  /** R22: resolution wrote the address into the caller's struct, then a later check failed (`kprobe.register.fail` follows). */
  'kprobe.addr': { cpu: 'int', pid: 'int', probe: 'str', addr: 'hex' },
  /** The caller cleared `p->addr` and/or `p->flags` of its struct kprobe before reusing it (R22). */
  'kprobe.clear': { cpu: 'int', pid: 'int', probe: 'str', addr: 'bool', flags: 'bool' },
  'mutex.lock': { cpu: 'int', pid: 'int' },
  'mutex.wait': { cpu: 'int', pid: 'int' },
  'mutex.unlock': { cpu: 'int', pid: 'int', next: 'int?' },
  'kprobe.insert': { cpu: 'int', pid: 'int', probe: 'str', addr: 'hex', bucket: 'int', handle: 'str', disabled: 'bool' },
  /** R47.2: the point's instruction copy was prepared boostable (kernels without CONFIG_PREEMPTION). */
  'kprobe.boostable': { cpu: 'int', pid: 'int', addr: 'hex' },
  /** §11 R84: the point is OPTIMIZED and queued for the optimizer, due at `due`. */
  'kprobe.opt.queue': { cpu: 'int', pid: 'int', addr: 'hex', due: 'int' },
  /** R84: the optimizer replaced the breakpoint with a jump to the detour buffer. */
  'kprobe.opt.patch': { addr: 'hex' },
  /**
   * R87: unoptimized at once: the breakpoint is back (forced by a post-handler child or a probe
   * inside the jump, taken off the optimizer's queue before it patched, or the sysctl).
   */
  'kprobe.opt.unopt': { cpu: 'int', pid: 'int', addr: 'hex' },
  /** R87: a disable or unregister queued the unoptimization of a patched point; the jump stays until `due`. */
  'kprobe.opt.unopt.queue': { cpu: 'int', pid: 'int', addr: 'hex', due: 'int' },
  /**
   * R87, R68: the optimizer unoptimized a point whose unoptimization was queued: breakpoint back,
   * then removed (the aggregator is disabled), and an emptied aggregator leaves the table.
   */
  'kprobe.opt.unpatch': { addr: 'hex' },
  /**
   * R87: enable_kprobe (or a new enabled child) at a point whose unoptimization was queued:
   * arm_kprobe() writes int3 over the jump's first byte and optimize_kprobe() takes the point off
   * the queue: it traps again and resumes in the detour buffer, OPTIMIZED, never queued again.
   */
  'kprobe.opt.rearm': { cpu: 'int', pid: 'int', addr: 'hex' },
  /** R15: a registration revived an emptied aggregator awaiting the optimizer: enabled, its code kept. */
  'kprobe.opt.revive': { cpu: 'int', pid: 'int', addr: 'hex' },
  /** R40: the kprobes-optimization sysctl was written: off unoptimizes everything, on requeues. */
  'kprobes.optimization': { cpu: 'int', pid: 'int', value: 'bool' },
  'text.arm': { cpu: 'int', pid: 'int', addr: 'hex' },
  'text.disarm': { cpu: 'int', pid: 'int', addr: 'hex' },
  'text.sync.start': { cpu: 'int', pid: 'int', sync: 'int', waiting: 'int[]' },
  'text.sync.end': { cpu: 'int', pid: 'int', sync: 'int' },
  'kprobe.registered': { cpu: 'int', pid: 'int', probe: 'str', addr: 'hex' },
  'kprobe.unregister': { cpu: 'int', pid: 'int', probe: 'str' },
  'kprobe.disable': { cpu: 'int', pid: 'int', probe: 'str' },
  'kprobe.unlink': { cpu: 'int', pid: 'int', probe: 'str', addr: 'hex' },
  'rcu.gp.start': { cpu: 'int', pid: 'int', gp: 'int', waiting: 'int[]' },
  'rcu.gp.end': { cpu: 'int', pid: 'int', gp: 'int' },
  'kprobe.unregistered': { cpu: 'int', pid: 'int', probe: 'str' },
  // enable_kprobe / disable_kprobe (spec §4)
  'kprobe.enable_kprobe': { cpu: 'int', pid: 'int', probe: 'str' },
  'kprobe.disable_kprobe': { cpu: 'int', pid: 'int', probe: 'str' },
  'kprobe.enable': { cpu: 'int', pid: 'int', probe: 'str' },
  'kprobe.returned': { cpu: 'int', pid: 'int', probe: 'str', fn: ['enable_kprobe', 'disable_kprobe'], ret: 'int' },
  // register_kprobes / unregister_kprobes batches (spec §3.1, §8)
  'kprobe.batch': { cpu: 'int', pid: 'int', fn: ['register_kprobes', 'unregister_kprobes'], probes: 'str[]' },
  'kprobe.batch.next': { cpu: 'int', pid: 'int', probe: 'str' },
  'kprobe.batch.return': { cpu: 'int', pid: 'int', fn: ['register_kprobes', 'unregister_kprobes'], ret: 'int' },
  // modules (spec §13): insmod / rmmod, and the kprobes module notifier under kprobe_mutex
  'module.insmod': { cpu: 'int', pid: 'int', module: 'str' },
  'module.rmmod': { cpu: 'int', pid: 'int', module: 'str' },
  /** The module's text is there and its init is about to run (MODULE_STATE_COMING). */
  'module.coming': { cpu: 'int', pid: 'int', module: 'str' },
  /**
   * rmmod refused (-EWOULDBLOCK, "in use"): references are held by registrations under way in its
   * text (R31) or by tasks running its code (as a file operation's owner reference would); or the
   * module is still in its init (-EBUSY).
   */
  'module.busy': { cpu: 'int', pid: 'int', module: 'str', probes: 'str[]', users: 'int[]' },
  /** insmod of a module already loaded (-EEXIST): its init and LIVE steps (`skip` operations) are skipped. */
  'module.exists': { cpu: 'int', pid: 'int', module: 'str', skip: 'int' },
  /** The module's init returned: do_init_module() makes it LIVE and the notifier runs (R96). */
  'module.init': { cpu: 'int', pid: 'int', module: 'str' },
  'module.live': { cpu: 'int', pid: 'int', module: 'str', gone: 'str[]' },
  'module.gone': { cpu: 'int', pid: 'int', module: 'str', gone: 'str[]' },
  'module.done': { cpu: 'int', pid: 'int', module: 'str' },
  // /sys/kernel/debug/kprobes/enabled, the global arm switch (spec §5)
  'kprobes.enabled_write': { cpu: 'int', pid: 'int', value: 'bool' },
  'kprobes.all_disarmed': { cpu: 'int', pid: 'int', value: 'bool' },
  'kprobes.enabled_written': { cpu: 'int', pid: 'int', value: 'bool' },
  // kretprobes (spec §9): the manager's pool, then the hit path's instances and trampoline
  'kretprobe.pool': { cpu: 'int', pid: 'int', probe: 'str', maxactive: 'int' },
  'kretprobe.detach': { cpu: 'int', pid: 'int', probe: 'str' },
  'kretprobe.take': { cpu: 'int', pid: 'int', probe: 'str', instance: 'str' },
  'kretprobe.miss': { cpu: 'int', pid: 'int', probe: 'str', reason: ['empty', 'detached'] },
  'kretprobe.hook': { cpu: 'int', pid: 'int', probe: 'str', instance: 'str', fn: 'str' },
  'kretprobe.trampoline': { cpu: 'int', pid: 'int', fn: 'str', ret: 'int', instances: 'str[]' },
  'kretprobe.ret_handler': { cpu: 'int', pid: 'int', probe: 'str', instance: 'str', addr: 'hex' },
  'kretprobe.put': { cpu: 'int', pid: 'int', probe: 'str', instance: 'str', reason: ['returned', 'entry_handler', 'detached', 'no_handler'] },
  'kretprobe.set_retval': { cpu: 'int', pid: 'int', probe: 'str', instance: 'str', value: 'int' },
  /** A handler wrote the instance's `data[]` (R77). */
  'kretprobe.data': { cpu: 'int', pid: 'int', probe: 'str', instance: 'str', value: 'int' },
  'kretprobe.return': { cpu: 'int', pid: 'int', fn: 'str', ret: 'int' },

  // ── input from outside the kernel (src "input"): a `kprobesim shell` session ────────────────
  /** What the user typed (one complete command), before the shell runs it. Changes no kernel state. */
  'input.line': { text: 'str' },
  /** A probe the session defined (a `kprobe_events` line), as a scenario probe. */
  'input.probe': { probe: 'obj' },
  /** Operations appended to an interactive task's program (what the user typed), waking it. */
  'input.ops': { pid: 'int', ops: 'obj[]' },
  /**
   * A module written in C the session's insmod brings (its `modules[]` entry: name, source, code,
   * params): it joins the run's modules (not yet loaded), and `probes` (its probe structs) the run's probes.
   */
  'input.module': { module: 'obj', probes: 'str[]' },
  /** The session mounted a host directory read-only at `path` (`shell --mount`; the host's path is not logged). */
  'input.mount': { path: 'str' },
  /**
   * What the session found at `path` of a mount the first time it looked (a directory's entries,
   * a file's text, or an errno): the host's bytes the session used, so that it replays without them.
   */
  'input.mount.read': { path: 'str', node: 'obj' },

  // ── the log itself (src "log") ──────────────────────────────────────────────────────────────
  'log.end': { digest: 'str', reason: END },
} as const satisfies Record<string, Record<string, FieldKind>>;

export type EventType = keyof typeof EVENT_FIELDS;

/** Which actor may emit each type: a slice of the state changes only through its owner's events. */
type Emitter = 'cpu' | 'sched' | 'kprobes' | 'input' | 'log';
const SCHED_TYPES = ['sched.pick', 'sched.switch', 'time.advance', 'kernel.deadlock', 'run.limit', 'run.task_limit'];
const KPROBES_TYPES = [
  'kprobe.register', 'kprobe.register.fail', 'kprobe.addr', 'kprobe.clear', 'mutex.lock', 'mutex.wait', 'mutex.unlock', 'kprobe.insert', 'kprobe.boostable',
  'kprobe.opt.queue', 'kprobe.opt.patch', 'kprobe.opt.unopt', 'kprobe.opt.unopt.queue', 'kprobe.opt.unpatch', 'kprobe.opt.rearm',
  'kprobe.opt.revive', 'kprobes.optimization',
  'text.arm', 'text.disarm', 'text.sync.start', 'text.sync.end', 'kprobe.registered', 'kprobe.unregister',
  'kprobe.disable', 'kprobe.unlink', 'rcu.gp.start', 'rcu.gp.end', 'kprobe.unregistered',
  'kprobe.enable_kprobe', 'kprobe.disable_kprobe', 'kprobe.enable', 'kprobe.returned', 'kretprobe.pool', 'kretprobe.detach',
  'kprobes.enabled_write', 'kprobes.all_disarmed', 'kprobes.enabled_written',
  'kprobe.batch', 'kprobe.batch.next', 'kprobe.batch.return',
  'module.insmod', 'module.rmmod', 'module.coming', 'module.busy', 'module.exists', 'module.init', 'module.live', 'module.gone', 'module.done',
];

const EMITTER: Readonly<Record<string, Emitter>> = Object.fromEntries(
  Object.keys(EVENT_FIELDS).map((type) => [
    type,
    type === 'log.end'
      ? 'log'
      : type.startsWith('input.')
        ? 'input'
        : SCHED_TYPES.includes(type)
          ? 'sched'
          : KPROBES_TYPES.includes(type)
            ? 'kprobes'
            : 'cpu',
  ]),
);

export function emitterOf(type: EventType): Emitter {
  return EMITTER[type]!;
}

const CPU_SOURCES = Array.from({ length: 64 }, (_, i) => `cpu/${i}`);

/** The `src` an event must carry: "cpu/N" for a CPU's events (N its payload's cpu). */
export function expectedSource(type: EventType, obj: Record<string, unknown>): string {
  const who = emitterOf(type);
  if (who !== 'cpu') return who;
  const cpu = obj.cpu as number;
  return CPU_SOURCES[cpu] ?? `cpu/${String(cpu)}`;
}
export const EVENT_TYPES = Object.keys(EVENT_FIELDS) as EventType[];

type Fields<T extends EventType> = (typeof EVENT_FIELDS)[T];
/** The fields a line may leave out ('str|absent'). */
type OptionalField<T extends EventType> = { [F in keyof Fields<T>]: Fields<T>[F] extends 'str|absent' ? F : never }[keyof Fields<T>];
type Payload<T extends EventType> = {
  -readonly [F in Exclude<keyof Fields<T>, OptionalField<T>>]: KindType<Fields<T>[F]>;
} & {
  -readonly [F in OptionalField<T>]?: KindType<Fields<T>[F]>;
};

/** A domain event as an actor emits it, before the stream stamps it. */
export type DomainEvent = { [T in EventType]: { type: T } & Payload<T> }[EventType];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

/** Who emitted it: "cpu/0", "sched", "kprobes", "input" (a shell session), "log". */
export type Source = `cpu/${number}` | 'sched' | 'kprobes' | 'input' | 'log';

/** A stamped event, as it appears on one log line. */
export type LoggedEvent = { seq: number; t: number; src: Source } & DomainEvent;

export function isEventType(s: unknown): s is EventType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(EVENT_FIELDS, s);
}

/** /^0x[0-9a-f]{1,16}$/ as a loop: most CPU events carry an address, and the reader checks every one. */
function isHex(v: string): boolean {
  const n = v.length;
  if (n < 3 || n > 18 || v.charCodeAt(0) !== 0x30 || v.charCodeAt(1) !== 0x78) return false;
  for (let i = 2; i < n; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function allOf(v: unknown, ok: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!ok(v[i])) return false;
  return true;
}

const isInt = (x: unknown): boolean => Number.isSafeInteger(x);
const isString = (x: unknown): boolean => typeof x === 'string';

/** Whether `v` is a value of field kind `kind`: the one definition, for the reader and checkPayload. */
export function kindOk(kind: FieldKind, v: unknown): boolean {
  if (typeof kind !== 'string') return typeof v === 'string' && kind.includes(v);
  switch (kind) {
    case 'int':
      return Number.isSafeInteger(v);
    case 'int?':
      return v === null || Number.isSafeInteger(v);
    case 'hex':
      return typeof v === 'string' && isHex(v);
    case 'hex?':
      return v === null || (typeof v === 'string' && isHex(v));
    case 'str':
      return typeof v === 'string';
    case 'str?':
      return v === null || typeof v === 'string';
    case 'str|absent':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'int[]':
      return allOf(v, isInt);
    case 'str[]':
      return allOf(v, isString);
    case 'obj':
      return isObject(v);
    case 'obj[]':
      return allOf(v, isObject);
  }
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeKind(kind: FieldKind): string {
  if (typeof kind !== 'string') return `one of ${kind.map((k) => JSON.stringify(k)).join(', ')}`;
  return {
    int: 'an integer',
    'int?': 'an integer or null',
    hex: 'a hex address string like "0xffffffff81000000"',
    'hex?': 'a hex address string or null',
    str: 'a string',
    'str?': 'a string or null',
    'str|absent': 'a string',
    bool: 'true or false',
    'int[]': 'an array of integers',
    'str[]': 'an array of strings',
    obj: 'a JSON object',
    'obj[]': 'an array of JSON objects',
  }[kind];
}

/**
 * Checks the payload fields of an event whose envelope is already known to be sound.
 * Returns null when valid, else a message naming the field and what was expected.
 */
export function checkPayload(type: EventType, obj: Record<string, unknown>): string | null {
  const fields = EVENT_FIELDS[type] as Record<string, FieldKind>;
  for (const name in fields) {
    const kind = fields[name]!;
    if (!(name in obj)) {
      if (kind === 'str|absent') continue;
      return `event "${type}" lacks field "${name}" (expected ${describeKind(kind)})`;
    }
    if (!kindOk(kind, obj[name])) {
      return `event "${type}" field "${name}" is ${JSON.stringify(obj[name])} (expected ${describeKind(kind)})`;
    }
  }
  return null;
}
