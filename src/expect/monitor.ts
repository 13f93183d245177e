import { InputError, lineColumn } from '../errors.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { Expectation, Scenario } from '../scenario/types.ts';
import type { Projection } from '../views/folder.ts';
import { compileExpr, EvaluationError, ExprError, type CompiledExpr } from './compile.ts';

// A scenario's own assertions ("expect": docs/expect.md), checked on the folded state: an
// `always` condition after every event, an `at_end` one on the state the run ends with (at
// log.end). Each expectation fails at most once, at the first event where it is false; a failure
// is a failure kind of its own (`expect`) for `kprobesim run` (exit 1) and `kprobesim explore`.

export type ExpectMode = 'always' | 'at_end';

export interface ExpectFailure {
  readonly kind: 'expect';
  /** Its index in scenario.expect. */
  readonly index: number;
  readonly mode: ExpectMode;
  readonly name?: string;
  /** The condition's text. */
  readonly expr: string;
  /** The event after which it was false. */
  readonly seq: number;
  /** One line: which expectation, where, and the values that made it false. */
  readonly message: string;
}

export interface CompiledExpectation {
  readonly index: number;
  readonly mode: ExpectMode;
  readonly name?: string;
  readonly condition: CompiledExpr;
}

function modeOf(x: Expectation): { mode: ExpectMode; expr: string } {
  return 'always' in x ? { mode: 'always', expr: x.always } : { mode: 'at_end', expr: x.at_end };
}

/**
 * Every expectation of `scenario`, parsed and type-checked against the state's names. The errors
 * name the place: `scenario.expect[1].always:1:14: unknown field "hitz" of a probe (…)`.
 */
export function checkExpectations(scenario: Scenario): { compiled: CompiledExpectation[]; errors: InputError[] } {
  const compiled: CompiledExpectation[] = [];
  const errors: InputError[] = [];
  (scenario.expect ?? []).forEach((x, index) => {
    const { mode, expr } = modeOf(x);
    try {
      compiled.push({ index, mode, ...(x.name !== undefined ? { name: x.name } : {}), condition: compileExpr(expr, scenario) });
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      const { line, column } = lineColumn(expr, e.offset);
      errors.push(new InputError(`scenario.expect[${index}].${mode}:${line}:${column}`, e.message));
    }
  });
  return { compiled, errors };
}

/** The expectations of a scenario that validation accepted (an error here is an internal one). */
export function compileExpectations(scenario: Scenario): CompiledExpectation[] {
  const { compiled, errors } = checkExpectations(scenario);
  if (errors.length > 0) throw errors[0]!;
  return compiled;
}

export class ExpectMonitor implements Projection {
  readonly failures: ExpectFailure[] = [];
  private readonly pending: CompiledExpectation[];

  constructor(expectations: readonly CompiledExpectation[]) {
    this.pending = [...expectations];
  }

  /** A monitor of `scenario`'s expectations, or null when it has none. */
  static of(scenario: Scenario): ExpectMonitor | null {
    return scenario.expect === undefined || scenario.expect.length === 0 ? null : new ExpectMonitor(compileExpectations(scenario));
  }

  /** The number of expectations watched (failed ones included). */
  get count(): number {
    return this.pending.length + this.failures.length;
  }

  observe(_before: KernelState, e: LoggedEvent, after: KernelState): void {
    if (this.pending.length === 0) return;
    const end = e.type === 'log.end';
    for (let i = 0; i < this.pending.length; i++) {
      const x = this.pending[i]!;
      if (x.mode === 'at_end' && !end) continue;
      let why: string | null;
      try {
        why = x.condition.holds(after) ? null : x.condition.explain(after);
      } catch (err) {
        if (!(err instanceof EvaluationError)) throw err;
        why = err.message;
      }
      if (why === null) continue;
      this.pending.splice(i--, 1);
      const label = x.name !== undefined ? `"${x.name}"` : x.condition.text;
      const when = x.mode === 'always' ? `after seq ${e.seq}` : `at the end (seq ${e.seq})`;
      this.failures.push({
        kind: 'expect',
        index: x.index,
        mode: x.mode,
        ...(x.name !== undefined ? { name: x.name } : {}),
        expr: x.condition.text,
        seq: e.seq,
        message: `expect[${x.index}] ${label} (${x.mode}) is false ${when}: ${why}`,
      });
    }
  }
}
