// Word expansion (POSIX XCU 2.6) for the parts the kprobesim shell supports, in sh order:
// parameter expansion → field splitting (only of unquoted expansion results, IFS = space, tab,
// newline) → pathname expansion (`*`, `?`, `[…]` against the simulated file tree; a pattern that
// matches nothing stays as written) → quote removal. No tilde expansion, no command substitution.

import type { Word } from './lexer.ts';

export interface ExpandEnv {
  /** Value of a parameter (`?`, `0`, `HOME`, …), undefined when unset (expands to nothing). */
  param(name: string): string | undefined;
  /** Names in a directory of the simulated tree (absolute path), or null if it is not one. */
  listDir?(absPath: string): readonly string[] | null;
  /** Does the absolute path exist in the simulated tree? */
  exists?(absPath: string): boolean;
  /** The current directory (relative patterns are matched from here). */
  readonly cwd?: string;
}

/** One character of an expanded word, with what later steps need to know about it. */
interface Ch {
  readonly c: string;
  /** Quoted or escaped: not a field separator, not a pattern character. */
  readonly quoted: boolean;
  /** Produced by an unquoted expansion: subject to field splitting. */
  readonly split: boolean;
}

interface Field {
  chars: Ch[];
  /** The field exists even if empty (it contained a quoted part, e.g. `""`). */
  keep: boolean;
}

const IFS_WS = new Set([' ', '\t', '\n']);

function expandParts(word: Word, env: ExpandEnv): Field[] {
  const fields: Field[] = [];
  let cur: Field = { chars: [], keep: false };
  for (const p of word.parts) {
    if (p.quoted) cur.keep = true;
    const text = p.kind === 'text' ? p.text : (env.param(p.name) ?? '');
    const split = p.kind === 'param' && !p.quoted;
    for (const c of text) {
      if (split && IFS_WS.has(c)) {
        if (cur.chars.length > 0 || cur.keep) fields.push(cur);
        cur = { chars: [], keep: false };
        continue;
      }
      cur.chars.push({ c, quoted: p.quoted, split });
    }
  }
  if (cur.chars.length > 0 || cur.keep) fields.push(cur);
  return fields;
}

const str = (chars: readonly Ch[]): string => chars.map((x) => x.c).join('');

/** Expand a command's words into arguments (splitting and pathname expansion included). */
export function expandWords(words: readonly Word[], env: ExpandEnv): string[] {
  const out: string[] = [];
  for (const w of words) {
    for (const f of expandParts(w, env)) out.push(...glob(f.chars, env));
  }
  return out;
}

/**
 * Expand a word where sh does not split fields or expand pathnames (assignment values,
 * redirection targets in dash/ash): parameters and quote removal only.
 */
export function expandWordNoSplit(word: Word, env: ExpandEnv): string {
  return word.parts.map((p) => (p.kind === 'text' ? p.text : (env.param(p.name) ?? ''))).join('');
}

// ── pathname expansion ────────────────────────────────────────────────────────────────────────

function isMeta(ch: Ch): boolean {
  return !ch.quoted && (ch.c === '*' || ch.c === '?' || ch.c === '[');
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/** A path component pattern as a RegExp (XCU 2.13.1; `[!…]` and `[^…]` negate). */
function componentRegex(chars: readonly Ch[]): RegExp {
  let re = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as Ch;
    if (ch.quoted) {
      re += escapeRe(ch.c);
    } else if (ch.c === '*') {
      re += '.*';
    } else if (ch.c === '?') {
      re += '.';
    } else if (ch.c === '[') {
      // Find the closing bracket; a `]` right after `[` or `[!` is a member.
      let j = i + 1;
      let neg = false;
      if (chars[j] && !chars[j]!.quoted && (chars[j]!.c === '!' || chars[j]!.c === '^')) {
        neg = true;
        j++;
      }
      const firstMember = j;
      while (j < chars.length && !(chars[j]!.c === ']' && !chars[j]!.quoted && j > firstMember)) j++;
      if (j >= chars.length) {
        re += '\\[';
        continue;
      }
      let cls = '';
      for (let k = firstMember; k < j; k++) {
        const m = chars[k] as Ch;
        if (!m.quoted && m.c === '-' && k > firstMember && k < j - 1) cls += '-';
        else cls += /[\\\]^-]/.test(m.c) ? `\\${m.c}` : m.c;
      }
      re += `[${neg ? '^' : ''}${cls}]`;
      i = j;
    } else {
      re += escapeRe(ch.c);
    }
  }
  return new RegExp(`^${re}$`, 's');
}

function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function glob(chars: readonly Ch[], env: ExpandEnv): string[] {
  const literal = str(chars);
  if (!chars.some(isMeta) || !env.listDir || !env.exists) return [literal];
  const absolute = chars[0]?.c === '/';
  // Components (a `/` always separates, quoted or not).
  const comps: Ch[][] = [[]];
  for (const ch of chars) {
    if (ch.c === '/') comps.push([]);
    else (comps[comps.length - 1] as Ch[]).push(ch);
  }
  const base = absolute ? '/' : (env.cwd ?? '/');
  // Each candidate: [absolute path used for lookups, the text the result shows].
  let cands: [string, string][] = [[base, absolute ? '/' : '']];
  comps.forEach((comp, idx) => {
    // The empty component before a leading `/` is the root itself.
    if (idx === 0 && absolute) return;
    const last = idx === comps.length - 1;
    const next: [string, string][] = [];
    for (const [abs, shown] of cands) {
      const sep = shown === '' || shown.endsWith('/') ? '' : '/';
      if (comp.length === 0) {
        // `a//b` (nothing to add) or a trailing `/` (kept in the result).
        next.push([abs, last ? `${shown}/` : shown]);
        continue;
      }
      if (!comp.some(isMeta)) {
        const name = str(comp);
        next.push([name === '..' ? parentOf(abs) : name === '.' ? abs : joinPath(abs, name), `${shown}${sep}${name}`]);
        continue;
      }
      const names = env.listDir!(abs);
      if (!names) continue;
      const re = componentRegex(comp);
      const dotOk = comp[0]?.c === '.';
      for (const n of names) {
        if (n.startsWith('.') && !dotOk) continue;
        if (re.test(n)) next.push([joinPath(abs, n), `${shown}${sep}${n}`]);
      }
    }
    cands = next;
  });
  const found = cands.filter(([abs]) => env.exists!(abs)).map(([, shown]) => shown);
  if (found.length === 0) return [literal];
  return [...new Set(found)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function parentOf(abs: string): string {
  const i = abs.lastIndexOf('/');
  return i <= 0 ? '/' : abs.slice(0, i);
}
