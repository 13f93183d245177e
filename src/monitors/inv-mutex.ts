import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-mutex: register/unregister/enable/disable critical sections never overlap: every step that
// kprobes.c takes under kprobe_mutex is taken by the task that holds it (R16).

export class MutexChecker implements InvariantChecker {
  readonly inv = 'INV-mutex';

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    switch (e.type) {
      case 'mutex.lock':
      case 'kprobe.insert':
      case 'text.arm':
      case 'text.disarm':
      case 'kprobe.disable':
      case 'kprobe.unlink': {
        // mutex.lock is checked against the owner before it (the lock must be free or already
        // ours); every other step against the owner after it (it must be ours).
        const owner = e.type === 'mutex.lock' ? before.kprobes.mutex.owner : after.kprobes.mutex.owner;
        if (e.type === 'mutex.lock' ? owner !== null && owner !== e.pid : owner !== e.pid) {
          report(e.seq, `${e.type} by task ${e.pid} while kprobe_mutex is held by ${owner ?? 'nobody'} (R16)`);
        }
        break;
      }
      default:
        break;
    }
  }
}
