import { z } from 'zod';
import { ARCHES } from '../kernel/image.ts';
import { KERNEL_VERSIONS } from '../kernel/releases.ts';
import { moduleNameOf as cModuleNameOf } from '../c/kernel-api.ts';
import { DEFAULT_MAX_TASKS, MAX_MAX_TASKS, type Scenario, type TaskOp } from './types.ts';

// The shape of a scenario file. Structure only: names that must exist in the kernel image or
// elsewhere in the scenario are checked by validate.ts, which can say "did you mean".
// The descriptions are what an editor shows: schema/scenario.schema.json is generated from this
// schema (scripts/schema.ts), so the shape is written once.

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a C identifier (letters, digits, _)');
const count = (max: number) => z.number().int().min(1).max(max);
/** A value a handler puts in regs->ax: a C int return value. */
const retval = z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1);
const fnName = (what: string) => z.string().describe(what);
const probeRef = z.string().describe('the name of a probe in "probes"');

const handlerStep = z
  .discriminatedUnion('do', [
    z.strictObject({ do: z.literal('print'), text: z.string().max(1024).describe('printk text; placeholders {symbol}, {addr}, {ip}, {flags} (x86_64), {pc}, {pstate} (arm64), {cpu}, {pid}, {comm}, {nmissed}, {retval}, {reg:NAME}, …'), arch: z.enum(ARCHES).optional().describe('build this step only for this architecture, as an #ifdef CONFIG_X86 / CONFIG_ARM64 branch of a C handler') }).describe('print through the kernel\'s printk function (a probe on it sees the call)'),
    z.strictObject({ do: z.literal('call'), fn: fnName('a function of the kernel image') }).describe('call a kernel function, executed instruction by instruction'),
    z.strictObject({ do: z.literal('spin'), steps: count(1_000_000).describe('how many steps') }).describe('busy-wait for a number of steps (other CPUs run meanwhile)'),
    z.strictObject({ do: z.literal('sleep') }).describe('sleep in the handler: "BUG: scheduling while atomic"'),
    z.strictObject({ do: z.literal('dump_stack') }).describe('print a stack trace'),
    z.strictObject({ do: z.literal('return'), value: z.number().int().describe('non-zero: a pre-handler redirected execution (R46); a kretprobe entry_handler declines the call (R73)') }).describe('return from a pre-handler or kretprobe entry_handler'),
    z.strictObject({ do: z.literal('override_return'), value: retval.describe('what the caller gets, e.g. -12') }).describe('error injection at a function entry: the function does not run and its caller gets value (R46; kernels 5.10 and 6.17; last step of a pre-handler)'),
    z.strictObject({ do: z.literal('jump'), fn: fnName('the function whose entry execution goes on in') }).describe('set the IP to another function\'s entry (a livepatch-style redirection; last step of a pre-handler)'),
    z.strictObject({ do: z.literal('set_reg'), reg: z.string().min(1).describe('a register of the arch (si, di, x1, …)'), value: z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1).describe('the value written') }).describe('write a register of the probed context; later handlers of the hit read it with {reg:NAME}'),
    z.strictObject({ do: z.literal('callback'), name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a JavaScript identifier').describe('the key of a callback passed to Simulation') }).describe('call a TypeScript callback of a library user; the steps it returns run in its place'),
    z.strictObject({ do: z.literal('set_retval'), value: retval.describe('the new return value, e.g. -14') }).describe('change the return value the caller gets (kretprobe return handler)'),
    z.strictObject({ do: z.literal('set_data'), value: z.union([z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1), z.literal('now')]).describe('a number, or "now" (the time, for {elapsed})') }).describe('store a value in the kretprobe instance\'s data[], shared by its entry and return handlers (R77)'),
    z.strictObject({ do: z.literal('fault'), fixup: z.boolean().optional().describe('an access with an exception-table fixup (no oops)') }).describe('touch a bad address'),
  ])
  .meta({ id: 'HandlerStep', title: 'Handler step', description: 'one step of a handler, chosen by "do"' });
/** Probes a scenario may define, and so register at once (or in one batch): runs with thousands of probes are fine. */
export const MAX_PROBES = 16_384;
const steps = (what: string) => z.array(handlerStep).max(64).optional().describe(what);

export const probeSchema = z
  .strictObject({
    name: name.describe('the probe\'s name, used by task ops and in {addr:NAME}'),
    symbol: z.string().min(1).optional().describe('the probed function (a module\'s as "module:function"); give symbol or addr'),
    offset: z.number().int().min(0).max(0xffff).optional().describe('byte offset into symbol (default 0)'),
    addr: z.string().regex(/^0x[0-9a-fA-F]{1,16}$/, 'a hex address like "0xffffffff81000000"').optional().describe('the probed address, instead of symbol'),
    pre: steps('pre_handler steps: run before the probed instruction, preemption and interrupts off'),
    post: steps('post_handler steps: run after the single-stepped instruction'),
    disabled: z.boolean().optional().describe('registered disabled (in the table, not armed) until enable_kprobe'),
    kind: z.enum(['kprobe', 'kretprobe', 'jprobe']).optional().describe('kprobe (default); kretprobe (entry and return handlers); jprobe (kernel 4.14 only)'),
    maxactive: z.number().int().min(0).max(4096).optional().describe('kretprobe instances (0: max(10, 2 × CPUs))'),
    entry: steps('kretprobe entry_handler steps'),
    handler: steps('kretprobe return handler steps, or a jprobe\'s handler'),
    fault_handler: z
      .strictObject({ print: z.string().max(1024).optional().describe('text printed when it runs'), handled: z.boolean().describe('true: the fault is handled') })
      .optional()
      .describe('a kprobe fault_handler (kernels 4.14 and 5.10 only)'),
  })
  .meta({ id: 'Probe', title: 'Probe', description: 'a struct kprobe (or kretprobe, jprobe) a task registers' });

const taskOp: z.ZodType<TaskOp> = z
  .lazy(() => taskOpUnion)
  .meta({ id: 'TaskOp', title: 'Task operation', description: 'one operation of a task\'s program, chosen by "op"' });
const taskOpUnion = z
  .discriminatedUnion('op', [
    z.strictObject({
      op: z.literal('call'),
      fn: fnName('a function of the kernel image'),
      times: count(100_000).optional().describe('how many times (default 1)'),
      fault: z
        .strictObject({
          at: z.number().int().min(0).max(0xffff).describe('byte offset of an ordinary instruction of fn'),
          outcome: z.enum(['resolved', 'fixup', 'oops']).describe('resolved: the page is mapped and it runs again; fixup: resumes after it; oops'),
        })
        .optional()
        .describe('the instruction at that offset faults once per call'),
      path: z.string().min(1).max(4095).optional().describe('a system call\'s filename (openat): a string in the task\'s user memory that the call\'s filename argument points at'),
      args: z
        .array(z.string().regex(/^(-?[0-9]{1,20}|0x[0-9a-fA-F]{1,16})$/, 'an integer: decimal, or 0x and up to 16 hex digits'))
        .max(8)
        .optional()
        .describe('arguments of a module function written in C, in its parameters (integers; a pointer is its address)'),
    }).describe('call a kernel function'),
    z.strictObject({ op: z.literal('printk'), text: z.string().max(1024).describe('text; {addr:NAME} prints a probe\'s address') }).describe('print a kernel log line'),
    z.strictObject({ op: z.literal('register_kprobe'), probe: probeRef }).describe('register_kprobe() (also registers kretprobes and jprobes)'),
    z.strictObject({ op: z.literal('unregister_kprobe'), probe: probeRef }).describe('unregister_kprobe(): returns after the grace period'),
    z.strictObject({ op: z.literal('clear_kprobe'), probe: probeRef, fields: z.array(z.enum(['addr', 'flags'])).min(1).max(2).optional().describe('which fields to clear (default: addr)') }).describe('p->addr = NULL; p->flags = 0, so the struct can be registered again'),
    z.strictObject({ op: z.literal('register_kprobes'), probes: z.array(probeRef).max(MAX_PROBES).describe('the probes, in order') }).describe('register a batch: rolled back if one fails'),
    z.strictObject({ op: z.literal('unregister_kprobes'), probes: z.array(probeRef).max(MAX_PROBES).describe('the probes, in order') }).describe('unregister a batch with one grace period'),
    z.strictObject({ op: z.literal('enable_kprobe'), probe: probeRef }).describe('enable_kprobe()'),
    z.strictObject({ op: z.literal('disable_kprobe'), probe: probeRef }).describe('disable_kprobe()'),
    z.strictObject({ op: z.literal('kprobes_enabled'), value: z.boolean().describe('true: arm every probe; false: disarm them all') }).describe('echo 0|1 > /sys/kernel/debug/kprobes/enabled'),
    z.strictObject({ op: z.literal('kprobes_optimization'), value: z.boolean().describe('true: optimize eligible probes; false: unoptimize them') }).describe('the debug.kprobes-optimization sysctl (config.optprobes)'),
    z.strictObject({ op: z.literal('ftrace_failure') }).describe('ftrace shuts itself down (config.ftrace)'),
    z.strictObject({ op: z.literal('user_int3') }).describe('an int3 in user space: kprobes ignore it and SIGTRAP ends the task'),
    z.strictObject({ op: z.literal('insmod'), module: z.string().describe('a module in "modules"') }).describe('load a module and run its init function'),
    z.strictObject({ op: z.literal('rmmod'), module: z.string().describe('a module in "modules"') }).describe('unload a module: its probes become GONE'),
    z.strictObject({ op: z.literal('sleep'), ticks: count(10_000_000).describe('ticks (1 ms each)') }).describe('sleep'),
    z.strictObject({ op: z.literal('wait_children') }).describe('wait(2) until every child the task forked has exited (in runs with modules written in C)'),
    z.strictObject({ op: z.literal('kunit_test'), name: z.string().min(1).max(255).describe('the case\'s name') }).describe('KUnit\'s kunit_init_test(): a struct kunit for a case (kprobesim kunit)'),
    z.strictObject({
      op: z.literal('fork'),
      comm: z.string().min(1).max(15, 'at most 15 characters (TASK_COMM_LEN - 1)').describe('the child\'s name'),
      program: z.array(taskOp).max(10_000).describe('the child\'s program'),
    }).describe('fork (kernel_clone): the child runs its own program, the parent goes on'),
  ]);

/** One task operation, as a shell session appends them (`input.ops`). */
export const taskOpSchema = taskOp;

const task = z
  .strictObject({
    comm: z.string().min(1).max(15, 'at most 15 characters (TASK_COMM_LEN - 1)').describe('the task\'s name'),
    pid: z.number().int().min(1).max(4_194_304).optional().describe('its pid (default: assigned)'),
    cpu: z.number().int().min(0).optional().describe('the CPU it is pinned to (default: any)'),
    program: z.array(taskOp).max(100_000).describe('what it does, in order; then it calls do_exit'),
    interactive: z.boolean().optional().describe('a shell: after its program it waits for input instead of exiting'),
  })
  .meta({ id: 'Task', title: 'Task', description: 'a task and its program' });

const moduleSpec = z
  .strictObject({
    name: name.describe('the module\'s name'),
    functions: z
      .array(
        z.strictObject({
          name: name.describe('the function\'s name (probed as "module:function")'),
          calls: z.array(z.string()).max(16).optional().describe('functions it calls, in order'),
          ret: z.number().int().optional().describe('its return value'),
          init: z.boolean().optional().describe('__init code: run by insmod, then freed'),
        }),
      )
      .min(1)
      .max(64)
      .describe('its functions'),
  })
  .meta({ id: 'Module', title: 'Module', description: 'a loadable module\'s text' });

/** A module written in C (issue 11): its file, the source (a log header carries it), insmod's parameters. */
const cModuleSpec = z
  .strictObject({
    source: z.string().min(1).max(4096).regex(/\.c$/, 'a C file (FILE.c)').describe('the module\'s C file, relative to the scenario file'),
    code: z.string().max(1024 * 1024).optional().describe('the C source itself (filled in from "source" when a scenario file is loaded; a log header carries it)'),
    params: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a parameter name'), z.string().max(4096)).optional().describe('insmod\'s parameters: name → value'),
    name: name.optional().describe('kbuild\'s module name (default: the file\'s name without .c, - as _)'),
    functions: z.array(z.never()).max(0).optional().describe('none: the functions are the C code\'s'),
  })
  .transform((m) => ({ ...m, name: m.name ?? cModuleNameOf(m.source), functions: [] as never[] }))
  .meta({ id: 'CModule', title: 'Module in C', description: 'a loadable module written in C, compiled and run by the model' });

const condition = (when: string, example: string) => z.string().min(1).max(4000).describe(`a condition over the kernel state ${when}, e.g. ${example} (docs/expect.md)`);
const expectName = z.string().min(1).max(200).optional().describe('what the condition means, shown when it fails');
const expectation = z
  .union(
    [
      z.strictObject({ always: condition('that holds after every event', 'count(c in cpus: c.handler == "kp") <= 1'), name: expectName }).describe('a condition that holds after every event'),
      z.strictObject({ at_end: condition('that holds when the run ends', 'probes.kp.hits == probes.kp.handled + probes.kp.nmissed'), name: expectName }).describe('a condition that holds when the run ends'),
    ],
    { error: 'give "always" or "at_end" (a condition), and optionally "name"' },
  )
  .meta({ id: 'Expectation', title: 'Expectation', description: 'an assertion of the scenario, checked while it runs: "always" or "at_end"' });

/** CPUs of a scenario file that gives none: as many as the default scenario has. */
export const DEFAULT_CPUS = 4;

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional().describe('the JSON Schema of this file, for editors; ignored'),
    name: z.string().min(1).max(64).describe('the scenario\'s name (in the summary and the log file name)'),
    description: z.string().max(200).default('').describe('one line on what it shows'),
    kernel: z.enum(KERNEL_VERSIONS).optional().describe('the kernel release to follow (default 6.17)'),
    arch: z.enum(ARCHES).optional().describe('the image the kernel boots (default x86_64)'),
    config: z
      .strictObject({
        ftrace: z.boolean().optional().describe('fentry sites and CONFIG_KPROBES_ON_FTRACE: entry probes are ftrace-based (§12)'),
        ibt: z.boolean().optional().describe('C functions start with ENDBR64: an entry probe sits at +4 (R24)'),
        preempt: z.boolean().optional().describe('false: a kernel without CONFIG_PREEMPTION (boosted single-steps, R47.2)'),
        optprobes: z.boolean().optional().describe('jump-optimized probes (§11)'),
      })
      .optional()
      .describe('kernel build options (x86_64)'),
    timer: z
      .strictObject({ period: z.number().int().min(10).max(1_000_000).describe('ticks between interrupts') })
      .optional()
      .describe('the local timer interrupt, running scheduler_tick in hard interrupt context'),
    modules: z.array(z.union([moduleSpec, cModuleSpec])).max(8).optional().describe('loadable modules, loaded by insmod'),
    cpus: z.number().int().min(1).max(64).default(DEFAULT_CPUS).describe(`how many CPUs (default ${DEFAULT_CPUS})`),
    max_steps: z.number().int().min(1).max(100_000_000).default(100_000).describe('the run stops after this many scheduler steps'),
    // No .default(): a default would enter every log header and change existing logs' bytes.
    max_tasks: z.number().int().min(1).max(MAX_MAX_TASKS).optional().describe(`the run stops when a fork takes the live tasks past this many (default ${DEFAULT_MAX_TASKS})`),
    probes: z.array(probeSchema).max(MAX_PROBES).default([]).describe('the probes tasks register'),
    tasks: z.array(task).max(1024).describe('the tasks that run'),
    expect: z.array(expectation).max(64).optional().describe('assertions over the kernel state, checked while the run goes on: a false one fails the run (exit 1)'),
  })
  .meta({ title: 'kprobesim scenario', description: 'A kprobesim scenario: the kernel, its probes and the tasks that run (kprobesim run FILE).' });

// The schema's output must be a Scenario; this line fails to compile if they drift apart.
export type SchemaCheck = z.output<typeof scenarioSchema> extends Scenario ? true : never;
const _check: SchemaCheck = true;
void _check;
