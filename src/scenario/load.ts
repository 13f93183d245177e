import { open, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { InputError, lineColumn, withPlacePrefix } from '../errors.ts';
import { BUILTIN_SCENARIOS, unknownBuiltin } from './builtin/index.ts';
import type { Scenario } from './types.ts';
import { validateScenario } from './validate.ts';

// A scenario argument is a built-in name or a JSON file. Malformed JSON is reported at its line
// and column; a well-formed file with a wrong field at the field's path.

export const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;

export function parseScenarioText(text: string, file: string, sources?: ReadonlyMap<number, string>): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const at = m ? lineColumn(text, Number(m[1])) : lineColumn(text, text.length);
    const what = (e as Error).message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '');
    throw new InputError(`${file}:${at.line}:${at.column}`, `${what} (expected a JSON scenario object)`);
  }
  // A module written in C: its source, read from beside the scenario file (src/cexec).
  if (sources !== undefined && sources.size > 0) {
    const r = raw as { modules: Record<string, unknown>[] };
    r.modules = r.modules.map((m, i) => (sources.has(i) ? { ...m, code: sources.get(i) } : m));
  }
  try {
    return validateScenario(raw);
  } catch (e) {
    if (e instanceof InputError) throw withPlacePrefix(e, file);
    throw e;
  }
}

/** An argument with a `/` or ending in `.json` names a file, never a built-in. */
function looksLikePath(arg: string): boolean {
  return arg.includes('/') || arg.endsWith('.json');
}

export async function loadScenario(arg: string): Promise<Scenario> {
  const builtin = BUILTIN_SCENARIOS.get(arg);
  if (builtin !== undefined) return builtin;
  let size: number;
  try {
    const st = await stat(arg);
    if (!st.isFile()) throw new InputError(arg, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    // A missing path is a missing file; a bare word that is not a file is a built-in misspelt.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || looksLikePath(arg)) throw e;
    throw new InputError('', unknownBuiltin(arg));
  }
  if (size > MAX_SCENARIO_BYTES) throw new InputError(arg, `file is ${size} bytes; a scenario may be at most ${MAX_SCENARIO_BYTES}`);
  const text = await readBounded(arg, MAX_SCENARIO_BYTES);
  return parseScenarioText(text, arg, await moduleSources(text, arg));
}

/** The C files a scenario file's modules name (`"source": "x.c"`, relative to the file), by module index. */
async function moduleSources(text: string, file: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return out; // parseScenarioText reports it
  }
  const modules = (raw as { modules?: unknown }).modules;
  if (!Array.isArray(modules)) return out;
  for (const [i, m] of modules.entries()) {
    if (typeof m !== 'object' || m === null) continue;
    const { source, code } = m as { source?: unknown; code?: unknown };
    if (typeof source !== 'string' || code !== undefined) continue;
    const path = isAbsolute(source) ? source : join(dirname(file), source);
    try {
      out.set(i, await readBounded(path, MAX_MODULE_SOURCE));
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${file}: scenario.modules[${i}].source`, e.message);
      throw new InputError(`${file}: scenario.modules[${i}].source`, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return out;
}

/** A module's C source is a few kilobytes; a bigger file is a mistake. */
const MAX_MODULE_SOURCE = 1024 * 1024;

/**
 * Reads at most `max` bytes of a file as UTF-8. A "regular" file may still be endless or fail
 * mid-read (/proc/self/mem gives EIO): the size stat reports is no bound, and the error names
 * the path the user gave.
 */
async function readBounded(path: string, max: number): Promise<string> {
  const labelled = (e: unknown) => {
    if (typeof e === 'object' && e !== null && 'code' in e) Object.assign(e, { path });
    return e;
  };
  const h = await open(path, 'r').catch((e: unknown) => {
    throw labelled(e);
  });
  try {
    const buf = Buffer.alloc(Math.min(max + 1, 1024 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, null).catch((e: unknown) => {
        throw labelled(e);
      });
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) throw new InputError(path, `file is more than ${max} bytes; a scenario may be at most ${max}`);
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await h.close();
  }
}
