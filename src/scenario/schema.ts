import { z } from 'zod';
import { ARCHES } from '../kernel/image.ts';
import { KERNEL_VERSIONS } from '../kernel/releases.ts';
import type { Scenario, TaskOp } from './types.ts';

// The shape of a scenario file. Structure only: names that must exist in the kernel image or
// elsewhere in the scenario are checked by validate.ts, which can say "did you mean".

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a C identifier (letters, digits, _)');
const count = (max: number) => z.number().int().min(1).max(max);
/** A value a handler puts in regs->ax: a C int return value. */
const retval = z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1);

const handlerStep = z.discriminatedUnion('do', [
  z.strictObject({ do: z.literal('print'), text: z.string().max(1024), arch: z.enum(ARCHES).optional() }),
  z.strictObject({ do: z.literal('call'), fn: z.string() }),
  z.strictObject({ do: z.literal('spin'), steps: count(1_000_000) }),
  z.strictObject({ do: z.literal('sleep') }),
  z.strictObject({ do: z.literal('dump_stack') }),
  z.strictObject({ do: z.literal('return'), value: z.number().int() }),
  z.strictObject({ do: z.literal('override_return'), value: retval }),
  z.strictObject({ do: z.literal('jump'), fn: z.string() }),
  z.strictObject({ do: z.literal('set_reg'), reg: z.string().min(1), value: z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1) }),
  z.strictObject({ do: z.literal('callback'), name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a JavaScript identifier') }),
  z.strictObject({ do: z.literal('set_retval'), value: retval }),
  z.strictObject({ do: z.literal('set_data'), value: z.union([z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1), z.literal('now')]) }),
  z.strictObject({ do: z.literal('fault'), fixup: z.boolean().optional() }),
]);

export const probeSchema = z.strictObject({
  name,
  symbol: z.string().min(1).optional(),
  offset: z.number().int().min(0).max(0xffff).optional(),
  addr: z.string().regex(/^0x[0-9a-fA-F]{1,16}$/, 'a hex address like "0xffffffff81000000"').optional(),
  pre: z.array(handlerStep).max(64).optional(),
  post: z.array(handlerStep).max(64).optional(),
  disabled: z.boolean().optional(),
  kind: z.enum(['kprobe', 'kretprobe', 'jprobe']).optional(),
  maxactive: z.number().int().min(0).max(4096).optional(),
  entry: z.array(handlerStep).max(64).optional(),
  handler: z.array(handlerStep).max(64).optional(),
  fault_handler: z.strictObject({ print: z.string().max(1024).optional(), handled: z.boolean() }).optional(),
});

const taskOp: z.ZodType<TaskOp> = z.lazy(() => taskOpUnion);
const taskOpUnion = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('call'),
    fn: z.string(),
    times: count(100_000).optional(),
    fault: z.strictObject({ at: z.number().int().min(0).max(0xffff), outcome: z.enum(['resolved', 'fixup', 'oops']) }).optional(),
  }),
  z.strictObject({ op: z.literal('printk'), text: z.string().max(1024) }),
  z.strictObject({ op: z.literal('register_kprobe'), probe: z.string() }),
  z.strictObject({ op: z.literal('unregister_kprobe'), probe: z.string() }),
  z.strictObject({ op: z.literal('clear_kprobe'), probe: z.string(), fields: z.array(z.enum(['addr', 'flags'])).min(1).max(2).optional() }),
  z.strictObject({ op: z.literal('register_kprobes'), probes: z.array(z.string()).max(256) }),
  z.strictObject({ op: z.literal('unregister_kprobes'), probes: z.array(z.string()).max(256) }),
  z.strictObject({ op: z.literal('enable_kprobe'), probe: z.string() }),
  z.strictObject({ op: z.literal('disable_kprobe'), probe: z.string() }),
  z.strictObject({ op: z.literal('kprobes_enabled'), value: z.boolean() }),
  z.strictObject({ op: z.literal('kprobes_optimization'), value: z.boolean() }),
  z.strictObject({ op: z.literal('ftrace_failure') }),
  z.strictObject({ op: z.literal('user_int3') }),
  z.strictObject({ op: z.literal('insmod'), module: z.string() }),
  z.strictObject({ op: z.literal('rmmod'), module: z.string() }),
  z.strictObject({ op: z.literal('sleep'), ticks: count(10_000_000) }),
  z.strictObject({
    op: z.literal('fork'),
    comm: z.string().min(1).max(15, 'at most 15 characters (TASK_COMM_LEN - 1)'),
    program: z.array(taskOp).max(10_000),
  }),
]);

/** One task operation, as a shell session appends them (`input.ops`). */
export const taskOpSchema = taskOp;

const task = z.strictObject({
  comm: z.string().min(1).max(15, 'at most 15 characters (TASK_COMM_LEN - 1)'),
  pid: z.number().int().min(1).max(4_194_304).optional(),
  cpu: z.number().int().min(0).optional(),
  program: z.array(taskOp).max(100_000),
  interactive: z.boolean().optional(),
});

const moduleSpec = z.strictObject({
  name,
  functions: z
    .array(z.strictObject({ name, calls: z.array(z.string()).max(16).optional(), ret: z.number().int().optional(), init: z.boolean().optional() }))
    .min(1)
    .max(64),
});

/** CPUs of a scenario file that gives none: as many as the default scenario has. */
export const DEFAULT_CPUS = 4;

export const scenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1).max(64),
  description: z.string().max(200).default(''),
  kernel: z.enum(KERNEL_VERSIONS).optional(),
  arch: z.enum(ARCHES).optional(),
  config: z.strictObject({ ftrace: z.boolean().optional(), ibt: z.boolean().optional(), preempt: z.boolean().optional(), optprobes: z.boolean().optional() }).optional(),
  timer: z.strictObject({ period: z.number().int().min(10).max(1_000_000) }).optional(),
  modules: z.array(moduleSpec).max(8).optional(),
  cpus: z.number().int().min(1).max(64).default(DEFAULT_CPUS),
  max_steps: z.number().int().min(1).max(100_000_000).default(100_000),
  probes: z.array(probeSchema).max(4096).default([]),
  tasks: z.array(task).max(1024),
});

// The schema's output must be a Scenario; this line fails to compile if they drift apart.
export type SchemaCheck = z.output<typeof scenarioSchema> extends Scenario ? true : never;
const _check: SchemaCheck = true;
void _check;
