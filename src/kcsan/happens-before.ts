import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { VectorClock } from './clock.ts';
import { taskThread, threadOn, type ThreadKey } from './threads.ts';

// The happens-before relation of a run, from its events: each thread's vector clock and the
// synchronization objects it releases into and acquires from. The edges, and why each is one:
//
// - program order within a thread (./threads.ts);
// - fork: the parent's past happens before the child's first step (kernel_clone publishes the
//   new task under the tasklist lock and the runqueue lock);
// - exit and wait: a child's whole run happens before its parent's wait(2) returns (the exit
//   state is published with release semantics and read by the waiter);
// - locks: spin_unlock() is a RELEASE and spin_lock() an ACQUIRE of the same lock word
//   (memory-barriers.txt "LOCK ACQUISITION FUNCTIONS"), as is kprobe_mutex for the kprobe
//   manager's own calls;
// - atomics (Documentation/atomic_t.txt): a value-returning read-modify-write is fully ordered,
//   an acquire and a release of its location; atomic_read/atomic_set and RMW ops without a
//   return value are unordered: marked (never a data race with each other) but no edge;
// - registration: register_kprobe() links the probe into the hash table with
//   hlist_add_head_rcu() (rcu_assign_pointer: a RELEASE), and the breakpoint handler finds it
//   with get_kprobe() (rcu_dereference: the handler is reached through the pointer it read).
//   What the registering task did before (module_init's writes) happens before every handler
//   run of the probe: the kernel relies on it for the struct's own fields;
// - unregistration: unregister_kprobe() waits for a text-patch sync (an IPI every CPU
//   acknowledges) and a grace period (synchronize_rcu: every CPU passes a quiescent state). A
//   handler that ended on a CPU before that CPU acknowledged (or before the wait started, for a
//   CPU it did not wait for) happens before the waiting task goes on;
// - a kretprobe instance put back in its pool happens before the next take of it (the pool is a
//   lock-free list of release/acquire operations).
//
// Not edges: the scheduler's own locking (two tasks that ran one after the other on one CPU are
// still concurrent: the code is racy whatever the schedule was; KCSAN itself needs them to
// overlap), and the kernel's barriers inside the model's kernel functions.

export class HappensBefore {
  private readonly index = new Map<ThreadKey, number>();
  private readonly clocks: VectorClock[] = [];
  /** Synchronization objects: what was released into each. */
  private readonly released = new Map<string, VectorClock>();
  /** Each CPU's handlers that have ended there, joined. */
  private readonly handlersDone = new Map<number, VectorClock>();
  /** A pending text-patch sync's or grace period's covered handlers. */
  private readonly waits = new Map<string, VectorClock>();
  private readonly parentOf = new Map<number, number>();

  /** The thread's index (its component in every clock), given on first sight. */
  id(t: ThreadKey): number {
    let i = this.index.get(t);
    if (i === undefined) {
      i = this.clocks.length;
      this.index.set(t, i);
      const c = new VectorClock();
      c.tick(i);
      this.clocks.push(c);
    }
    return i;
  }

  clock(t: ThreadKey): VectorClock {
    return this.clocks[this.id(t)]!;
  }

  /** The thread's own component now: what an access of it is stamped with. */
  epoch(t: ThreadKey): number {
    return this.clock(t).get(this.id(t));
  }

  acquire(t: ThreadKey, object: string): void {
    const r = this.released.get(object);
    if (r !== undefined) this.clock(t).join(r);
  }

  release(t: ThreadKey, object: string): void {
    const c = this.clock(t);
    const r = this.released.get(object);
    if (r === undefined) this.released.set(object, c.copy());
    else r.join(c);
    c.tick(this.id(t));
  }

  private joinInto(map: Map<string, VectorClock>, key: string, c: VectorClock | undefined): void {
    if (c === undefined) return;
    const r = map.get(key);
    if (r === undefined) map.set(key, c.copy());
    else r.join(c);
  }

  private doneOn(cpu: number): VectorClock | undefined {
    return this.handlersDone.get(cpu);
  }

  /** A start of a wait for CPUs: those not waited for are covered at once. */
  private startWait(key: string, cpus: number, waiting: readonly number[]): void {
    this.waits.set(key, new VectorClock());
    for (let cpu = 0; cpu < cpus; cpu++) if (!waiting.includes(cpu)) this.joinInto(this.waits, key, this.doneOn(cpu));
  }

  /** The kernel's edges of an event (module code's own accesses are the checker's). */
  observe(w: KernelState, e: LoggedEvent): void {
    switch (e.type) {
      case 'task.fork': {
        const parent = taskThread(e.pid);
        const child = taskThread(e.child);
        this.parentOf.set(e.child, e.pid);
        const pc = this.clock(parent);
        this.clock(child).join(pc);
        pc.tick(this.id(parent));
        return;
      }
      case 'task.exit': {
        const parent = this.parentOf.get(e.pid);
        if (parent !== undefined) this.release(taskThread(e.pid), `exited-children ${parent}`);
        return;
      }
      case 'task.wait_children':
      case 'task.wake':
        this.acquire(taskThread(e.pid), `exited-children ${e.pid}`);
        return;
      case 'mutex.lock':
        this.acquire(taskThread(e.pid), 'kprobe_mutex');
        return;
      case 'mutex.unlock':
        this.release(taskThread(e.pid), 'kprobe_mutex');
        // Handed to a waiter: it holds the mutex from here.
        if (e.next !== null) this.acquire(taskThread(e.next), 'kprobe_mutex');
        return;
      case 'kprobe.insert':
      case 'kprobe.registered':
      case 'kprobe.enable':
        this.release(taskThread(e.pid), `probe ${e.probe}`);
        return;
      case 'handler.enter':
        this.acquire(threadOn(w, e.cpu), `probe ${e.probe}`);
        return;
      case 'handler.exit': {
        const t = threadOn(w, e.cpu);
        const c = this.clock(t);
        const done = this.handlersDone.get(e.cpu);
        if (done === undefined) this.handlersDone.set(e.cpu, c.copy());
        else done.join(c);
        c.tick(this.id(t));
        return;
      }
      case 'text.sync.start':
        this.startWait(`sync ${e.sync}`, w.cpus.length, e.waiting);
        return;
      case 'ipi.ack':
        this.joinInto(this.waits, `sync ${e.sync}`, this.doneOn(e.cpu));
        return;
      case 'text.sync.end': {
        const c = this.waits.get(`sync ${e.sync}`);
        if (c !== undefined) this.clock(taskThread(e.pid)).join(c);
        return;
      }
      case 'rcu.gp.start':
        this.startWait(`gp ${e.gp}`, w.cpus.length, e.waiting);
        return;
      case 'rcu.qs':
        this.joinInto(this.waits, `gp ${e.gp}`, this.doneOn(e.cpu));
        return;
      case 'rcu.gp.end': {
        const c = this.waits.get(`gp ${e.gp}`);
        if (c !== undefined) this.clock(taskThread(e.pid)).join(c);
        return;
      }
      case 'kretprobe.take':
        this.acquire(threadOn(w, e.cpu, e.pid), `instance ${e.instance}`);
        return;
      case 'kretprobe.put':
        this.release(threadOn(w, e.cpu, e.pid), `instance ${e.instance}`);
        return;
      default:
        return;
    }
  }
}
