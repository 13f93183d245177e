import { validateScenario } from '../scenario/validate.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { LogHeader } from '../log/header.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Timeline, TimelineInput, TimelineOptions, Track } from './model.ts';

// First cut (the model's shape for the viewer to code against): CPU tracks only.

export class TimelineBuilder {
  private readonly scenario: Scenario;
  private readonly times: number[] = [];
  private first = 0;
  private last = 0;
  constructor(
    private readonly header: LogHeader,
    scenario: Scenario | undefined,
    private readonly options: TimelineOptions = {},
  ) {
    this.scenario = scenario ?? validateScenario(header.scenario);
  }
  push(e: LoggedEvent): void {
    if (e.type === 'log.end') return;
    if (this.options.from !== undefined && e.seq < this.options.from) return;
    if (this.options.to !== undefined && e.seq > this.options.to) return;
    if (this.first === 0) this.first = e.seq;
    this.last = e.seq;
    this.times.push(e.t);
  }
  finish(): Timeline {
    const tracks: Track[] = Array.from({ length: this.scenario.cpus }, (_, cpu) => ({ id: `cpu/${cpu}`, name: `CPU ${cpu}`, kind: 'cpu' as const, order: cpu, cpu }));
    return {
      tracks,
      slices: [],
      instants: [],
      counters: [],
      flows: [],
      firstSeq: this.first,
      lastSeq: this.last,
      cpus: this.scenario.cpus,
      scenario: this.scenario.name,
      seed: this.header.seed,
      run: this.header.run,
      times: this.times,
      partial: false,
    };
  }
}

export function buildTimeline(input: TimelineInput, options: TimelineOptions = {}): Timeline {
  const b = new TimelineBuilder(input.header, input.scenario, options);
  for (const e of input.events) b.push(e);
  return b.finish();
}
