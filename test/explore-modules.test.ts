import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explore } from '../src/explore/explore.ts';
import { ModuleBugDetector } from '../src/explore/module-detectors.ts';
import { KcsanMonitor } from '../src/kcsan/index.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import type { KernelState } from '../src/model/state.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import { cliInProcess } from './cli-in-process.ts';
import { tempDir } from './explore-fixtures.ts';
import { bumpers, countOpens } from './kcsan-fixtures.ts';

// kprobesim explore with kernel modules in C (issue 12): `explore [SCENARIO] --module FILE.c
// [--module-param ...]` loads them around the workload as `run` does, and a module's failures are
// failure kinds: `kcsan` (a data race on its memory), `kasan` (use-after-free), `warn` (WARN_ON),
// and `kunit` (a failed KUnit check). Each failure's log replays, and holds the failure.

const dir = tempDir('kprobesim-explore-modules-');

function file(name: string, code: string): string {
  const path = join(dir, name);
  writeFileSync(path, code);
  return path;
}

const countOpensC = file('count_opens.c', countOpens('x86_64'));
const countOpensLockedC = file('count_opens_locked.c', countOpens('x86_64', true));

/** A pre-handler on openat WARNs once more than `limit` opens were counted (atomically). */
const warnC = file(
  'open_limit.c',
  `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/atomic.h>

static int limit = 10;
module_param(limit, int, 0644);
static atomic_t opens = ATOMIC_INIT(0);

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	WARN_ON(atomic_inc_return(&opens) > limit);
	return 0;
}

static struct kprobe kp = {
	.symbol_name	= "__x64_sys_openat",
	.pre_handler	= handler_pre,
};

static int __init limit_init(void)
{
	return register_kprobe(&kp);
}

static void __exit limit_exit(void)
{
	unregister_kprobe(&kp);
}

module_init(limit_init);
module_exit(limit_exit);
MODULE_LICENSE("GPL");
`,
);

/** module_exit frees its buffer, then prints what it held. */
const kasanC = file(
  'late_read.c',
  `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

static int *buf;

static int __init late_init(void)
{
	buf = kmalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	*buf = 7;
	return 0;
}

static void __exit late_exit(void)
{
	kfree(buf);
	pr_info("buf=%d\\n", *buf);
}

module_init(late_init);
module_exit(late_exit);
MODULE_LICENSE("GPL");
`,
);

async function cli(args: string[]) {
  const r = await cliInProcess(['explore', ...args]);
  return { ...r, last: r.out.trimEnd().split('\n').at(-1)! };
}

function report(path: string) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('kprobesim explore --module', () => {
  it('finds the unlocked counter of a handler at once (every schedule races), shrinks it to the default schedule, and its log replays with the race in it', async () => {
    const out = join(dir, 'count');
    const r = await cli(['--module', countOpensC, '--runs', '50', '--out', out, '--report', join(dir, 'count.json')]);
    expect(r.code).toBe(1);
    // The default workload's cats are siblings, each hitting the probe once: nothing orders two
    // handlers' opens++, on any schedule, so the first run fails.
    expect(r.last).toMatch(/^FAILED: 1 failure \(KCSAN: data-race in handler_pre \/ handler_pre\) in 1 run \(portfolio, seed 42, \d+ distinct states\)$/);
    const f = report(join(dir, 'count.json')).failures[0];
    expect(f.kind).toBe('kcsan');
    expect(f.check).toBe('KCSAN: data-race in handler_pre / handler_pre');
    expect(f.message).toMatch(/^BUG: KCSAN: data-race in handler_pre \/ handler_pre \((read|write) to 0x[0-9a-f]{16} of 8 bytes by interrupt on cpu \d; (read|write) to 0x[0-9a-f]{16} of 8 bytes by interrupt on cpu \d\)$/);
    // The race needs no preemption: the default schedule has it too.
    expect(f.preemptions).toBe(0);
    expect(f.preemptions).toBeLessThanOrEqual(f.preemptions_before_shrinking);
    const replay = await cliInProcess(['replay', f.log]);
    expect(replay.code).toBe(0);
    expect(replay.out).toMatch(/^identical: /);
    let monitor: KcsanMonitor | null = null;
    await foldLog(f.log, (s) => [(monitor = KcsanMonitor.of(s))!]);
    expect(monitor!.reports[0]?.title).toBe('data-race in handler_pre / handler_pre');
  });

  it('gives the same report, byte for byte, with one worker or two', async () => {
    const out = join(dir, 'workers');
    const a = await cli(['--module', countOpensC, '--runs', '32', '--out', out, '--report', join(dir, 'w1.json')]);
    const b = await cli(['--module', countOpensC, '--runs', '32', '--workers', '2', '--out', out, '--report', join(dir, 'w2.json')]);
    expect([a.code, b.code]).toEqual([1, 1]);
    expect(readFileSync(join(dir, 'w2.json'), 'utf8')).toBe(readFileSync(join(dir, 'w1.json'), 'utf8'));
  });

  it('finds nothing when the handler counts under a spinlock', async () => {
    const r = await cli(['--module', countOpensLockedC, '--runs', '12', '--out', join(dir, 'locked')]);
    expect(r.code).toBe(0);
    expect(r.last).toMatch(/^OK: no failure in 12 runs \(portfolio, seed 42, \d+ distinct states\)$/);
  });

  it("a module's WARN_ON is a `warn` failure; --module-param reaches the module", async () => {
    // Four cats open a file each: the third open is over limit=2; limit=4 is never passed.
    const over = await cli(['--module', warnC, '--module-param', 'limit=2', '--runs', '5', '--out', join(dir, 'warn'), '--report', join(dir, 'warn.json')]);
    expect(over.code).toBe(1);
    const f = report(join(dir, 'warn.json')).failures[0];
    expect(f.kind).toBe('warn');
    expect(f.check).toBe('kernel.warn');
    // The file as gcc names it: the path the command was given.
    expect(f.message.startsWith('WARNING: CPU: ')).toBe(true);
    expect(f.message).toContain(` at ${warnC}:`);
    const under = await cli(['--module', warnC, '--module-param', 'open_limit.limit=4', '--runs', '5', '--out', join(dir, 'nowarn')]);
    expect(under.code).toBe(0);
  });

  it('a use-after-free in module code is a `kasan` failure, not just an oops', async () => {
    const r = await cli(['--module', kasanC, '--runs', '5', '--out', join(dir, 'kasan'), '--report', join(dir, 'kasan.json')]);
    expect(r.code).toBe(1);
    const f = report(join(dir, 'kasan.json')).failures[0];
    expect(f.kind).toBe('kasan');
    expect(f.check).toBe('KASAN');
    expect(f.message).toMatch(/^BUG: KASAN: use-after-free read of 0x[0-9a-f]+ in late_exit\+0x[0-9a-f]+\/0x[0-9a-f]+ \[late_read\] on cpu \d \(pid \d+\)$/);
  });

  it('a module that does not compile is bad input: gcc\'s diagnostics, exit 2, nothing run', async () => {
    const bad = file('bad.c', '#include <linux/module.h>\nstatic int x = ;\n');
    const r = await cli(['--module', bad, '--out', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.c:2:\d+: error: /);
    expect(r.out).toBe('');
  });

  it('as a library: explore() of a scenario with a C module (two tasks bumping a counter) reports kcsan on run 0', async () => {
    const rep = await explore(bumpers('bump', 1), { strategy: 'pct', runs: 20, seed: 1, out: null });
    expect(rep.runs).toBe(1);
    expect(rep.failures.map((f) => [f.kind, f.check, f.preemptions])).toEqual([['kcsan', 'KCSAN: data-race in bump / bump', 0]]);
  });
});

describe('the KUnit hook', () => {
  it('a kunit.fail event (a failed KUNIT_EXPECT_*) is a `kunit` failure naming file and line', () => {
    const d = new ModuleBugDetector();
    const e: LoggedEvent = { seq: 9, t: 3, src: 'cpu/0', type: 'kunit.fail', cpu: 0, pid: 101, test: '0xffff888100000000', assert: false, file: 'example_test.c', line: 12, col: 2, values: ['1', '2'], message: null };
    d.observe({} as KernelState, e);
    expect(d.found).toEqual({ kind: 'kunit', check: 'kunit.fail example_test.c:12', message: 'KUnit expectation failed at example_test.c:12 (pid 101)', seq: 9 });
  });
});
