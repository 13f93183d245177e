import { DEFAULT_KERNEL } from '../kernel/index.ts';
import type { Scenario } from '../scenario/types.ts';
import { traceHeader, traceLayout } from '../tracefs/trace-layout.ts';

// The ftrace `trace` file of a scenario run, as the kernel shows it. A scenario's probes are a
// module's: its tasks call register_kprobe(), and a struct kprobe registered that way is no
// trace event (only a kprobe_events definition is, through trace_kprobe, R156). So the kernel's
// file is the header of the run's release (src/tracefs/trace-layout.ts) with no records; what the
// handlers did is in dmesg, the summary and `why`. A shell session's trace is the shell's own
// `trace` file (src/shell/files/trace.ts), which prints through the same header.

export class TraceView {
  constructor(private readonly scenario: Scenario) {}

  /** The file's text: stdout is exactly what `cat trace` prints. */
  text(cpus: number = this.scenario.cpus): string {
    return traceHeader(traceLayout(this.scenario.kernel ?? DEFAULT_KERNEL), 0, 0, cpus);
  }

  /**
   * Why the file is empty and where the run's probes do show, for stderr (the kernel prints no
   * such line), or null when the run has no probes. `log` names the run's log for `why`.
   */
  note(log: string | null): string | null {
    const names = this.scenario.probes.map((p) => p.name);
    if (names.length === 0) return null;
    const probes = names.length === 1 ? `probe ${names[0]} was` : `probes ${names.join(', ')} were`;
    const why = log === null ? '`kprobesim why LOG`' : `\`kprobesim why ${log}\``;
    return (
      `kprobesim: note: this run's ${probes} registered by module code (register_kprobe), which creates no trace event, ` +
      `so the kernel's trace file has no records. What the handlers printed is in dmesg ` +
      `(\`kprobesim run … --dmesg\`); the counts are in the run's summary and in ${why}.\n`
    );
  }
}
