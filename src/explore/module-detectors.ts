import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { accessLine, KcsanMonitor } from '../kcsan/index.ts';
import type { Failure, FailureDetector } from './detectors.ts';

// The failures of kernel modules written in C (issues 11 and 12), for explore's DETECTORS:
// KCSAN's data races on module memory, KASAN's use-after-free, and WARN_ON(). A BUG_ON() or an
// oops in module code is the kernel's own `kernel-bug`. A KUnit expectation that fails (event
// `kunit.fail` of KUnit's executor) is the `kunit` kind.

/** A data race on module memory, as KCSAN reports it (src/kcsan), whether or not a value was lost. */
export class KcsanDetector implements FailureDetector {
  found: Failure | null = null;
  constructor(private readonly monitor: KcsanMonitor) {}
  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    if (this.found !== null) return;
    this.monitor.observe(before, e, after);
    const r = this.monitor.reports[0];
    if (r === undefined) return;
    const side = (a: typeof r.first) => accessLine(a).replace(/:$/, '');
    // The title names the functions: a shrunk schedule must race in the same two.
    this.found = { kind: 'kcsan', check: `KCSAN: ${r.title}`, message: `BUG: KCSAN: ${r.title} (${side(r.second)}; ${side(r.first)})`, seq: r.seq };
  }
}

/**
 * What a module's code reported about itself: KASAN's use-after-free (its oops, claimed before
 * the kernel-bug detector sees it), WARN_ON() (the code goes on, but the run has failed), and a
 * KUnit check that failed.
 */
export class ModuleBugDetector implements FailureDetector {
  found: Failure | null = null;
  observe(_before: KernelState, e: LoggedEvent): void {
    if (this.found !== null) return;
    if (e.type === 'kernel.oops' && e.message.startsWith('KASAN: ')) {
      this.found = { kind: 'kasan', check: 'KASAN', message: `BUG: ${e.message} on cpu ${e.cpu} (pid ${e.pid})`, seq: e.seq };
    } else if (e.type === 'kernel.warn') {
      this.found = { kind: 'warn', check: 'kernel.warn', message: `WARNING: CPU: ${e.cpu} PID: ${e.pid} at ${e.file}:${e.line}`, seq: e.seq };
    } else if (e.type === 'kunit.fail') {
      // A KUNIT_EXPECT_*/KUNIT_ASSERT_* that failed (KUnit's executor, src/cexec/kunit.ts).
      const what = e.assert ? 'assertion' : 'expectation';
      this.found = { kind: 'kunit', check: `kunit.fail ${e.file}:${e.line}`, message: `KUnit ${what} failed at ${e.file}:${e.line} (pid ${e.pid})${e.message !== null ? `: ${e.message}` : ''}`, seq: e.seq };
    }
  }
}

/** The module detectors a scenario needs (none without C modules). */
export function kcsanDetector(scenario: Parameters<typeof KcsanMonitor.of>[0]): KcsanDetector | null {
  const m = KcsanMonitor.of(scenario);
  return m === null ? null : new KcsanDetector(m);
}
