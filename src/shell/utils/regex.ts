// POSIX regular expressions for the shell's `grep`: basic (BRE) and extended (ERE) syntax with the
// GNU extensions glibc's regcomp() accepts (BusyBox grep calls it): `\+ \? \|` in BRE, `\w \W \s
// \S`, `\b \B \< \>`. A pattern is compiled to a Thompson NFA and a line is matched by simulating
// every NFA state at once, so the time is linear in (pattern size × line length) whatever the
// user types: `(a*)*b` cannot backtrack catastrophically. The price: back-references (`\1`) need
// backtracking and are refused with a message, and the NFA's size is bounded ("Regular expression
// too big", glibc's REG_ESIZE wording). Error texts are glibc's regerror() strings.
//
// (A linear-time engine from npm, re2js, would do this job; it is not a dependency of the
// project, so this small one stands in.)

export type Flavor = 'basic' | 'extended';

export interface RegexOptions {
  readonly flavor: Flavor;
  /** -i: letters match either case. */
  readonly ignoreCase: boolean;
  /** -w: the match must not touch a word character on either side (GNU grep's whole words). */
  readonly wholeWord: boolean;
  /** -F: the pattern is a fixed string, no operator is special. */
  readonly fixed: boolean;
}

export type CompiledRegex = { readonly ok: true; test(line: string): boolean } | { readonly ok: false; readonly error: string };

/** At most this many NFA states per pattern: `x{1000}{1000}` is refused, not built. */
export const MAX_STATES = 100_000;
/** glibc's RE_DUP_MAX: the largest count in `{m,n}`. */
const DUP_MAX = 0x7fff;

type CharTest = (c: number) => boolean;
/** A zero-width assertion on the characters before and after a position (-1: none). */
type AssertTest = (prev: number, next: number) => boolean;

type Node =
  | { readonly k: 'char'; readonly test: CharTest }
  | { readonly k: 'assert'; readonly test: AssertTest }
  | { readonly k: 'cat'; readonly items: readonly Node[] }
  | { readonly k: 'alt'; readonly items: readonly Node[] }
  | { readonly k: 'repeat'; readonly node: Node; readonly min: number; readonly max: number };

const EMPTY: Node = { k: 'cat', items: [] };

class RegexError {
  constructor(readonly message: string) {}
}

const ERR = {
  paren: 'Unmatched ( or \\(',
  closeParen: 'Unmatched ) or \\)',
  bracket: 'Unmatched [, [^, [:, [., or [=',
  brace: 'Unmatched \\{',
  badBrace: 'Invalid content of \\{\\}',
  range: 'Invalid range end',
  className: 'Invalid character class name',
  backslash: 'Trailing backslash',
  preceding: 'Invalid preceding regular expression',
  tooBig: 'Regular expression too big',
  backref: 'back-references (\\1…\\9) are not supported by the kprobesim shell',
};

const isWordChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** The POSIX character classes of `[[:name:]]`, in the C locale. */
const CLASSES: ReadonlyMap<string, CharTest> = new Map<string, CharTest>([
  ['alpha', (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)],
  ['digit', (c) => c >= 48 && c <= 57],
  ['alnum', (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)],
  ['upper', (c) => c >= 65 && c <= 90],
  ['lower', (c) => c >= 97 && c <= 122],
  ['space', isSpace],
  ['blank', (c) => c === 32 || c === 9],
  ['xdigit', (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)],
  ['punct', (c) => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)],
  ['print', (c) => c >= 32 && c <= 126],
  ['graph', (c) => c >= 33 && c <= 126],
  ['cntrl', (c) => c < 32 || c === 127],
]);

const ASSERTIONS: Readonly<Record<string, AssertTest>> = {
  b: (p, n) => isWordChar(p) !== isWordChar(n),
  B: (p, n) => isWordChar(p) === isWordChar(n),
  '<': (p, n) => !isWordChar(p) && isWordChar(n),
  '>': (p, n) => isWordChar(p) && !isWordChar(n),
};
const LINE_START: AssertTest = (p) => p === -1;
const LINE_END: AssertTest = (_p, n) => n === -1;

/** With -i a character test also accepts the other case of the character (glibc's REG_ICASE). */
function folded(test: CharTest): CharTest {
  return (c) => test(c) || test(String.fromCharCode(c).toLowerCase().charCodeAt(0)) || test(String.fromCharCode(c).toUpperCase().charCodeAt(0));
}

/** Recursive-descent parser of one pattern, in either flavor. */
class Parser {
  private i = 0;
  private readonly ere: boolean;

  constructor(
    private readonly src: string,
    flavor: Flavor,
    private readonly ignoreCase: boolean,
  ) {
    this.ere = flavor === 'extended';
  }

  private literal(c: number): Node {
    const test: CharTest = (x) => x === c;
    return { k: 'char', test: this.ignoreCase ? folded(test) : test };
  }

  /** -F: every character of the pattern stands for itself. */
  fixed(): Node {
    return { k: 'cat', items: [...this.src].map((c) => this.literal(c.charCodeAt(0))) };
  }

  parse(): Node {
    const node = this.alternation(0);
    if (this.i < this.src.length) throw new RegexError(ERR.closeParen);
    return node;
  }

  private at(s: string): boolean {
    return this.src.startsWith(s, this.i);
  }

  /** The operators of the flavor: ERE `|`, `(`, `)`, BRE `\|`, `\(`, `\)`. */
  private op(name: '|' | '(' | ')'): string {
    return this.ere ? name : `\\${name}`;
  }

  private alternation(depth: number): Node {
    const items = [this.concatenation(depth)];
    while (this.at(this.op('|'))) {
      this.i += this.op('|').length;
      items.push(this.concatenation(depth));
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  /** Where a concatenation ends: the end, `|`, or the `)` of an open group. */
  private atEnd(depth: number): boolean {
    return this.i >= this.src.length || this.at(this.op('|')) || (depth > 0 && this.at(this.op(')')));
  }

  private concatenation(depth: number): Node {
    const items: Node[] = [];
    const start = this.i;
    while (!this.atEnd(depth)) {
      if (!this.ere && this.at('\\)') && depth === 0) throw new RegexError(ERR.closeParen);
      if (this.ere && this.at(')') && depth === 0) throw new RegexError(ERR.closeParen);
      let atom = this.atom(depth, this.i === start);
      atom = this.quantifiers(atom);
      items.push(atom);
    }
    return items.length === 1 ? items[0]! : { k: 'cat', items };
  }

  private atom(depth: number, first: boolean): Node {
    const s = this.src;
    const c = s[this.i]!;
    if (this.at(this.op('('))) {
      this.i += this.op('(').length;
      const inner = this.alternation(depth + 1);
      if (!this.at(this.op(')'))) throw new RegexError(ERR.paren);
      this.i += this.op(')').length;
      return inner;
    }
    if (c === '^') {
      this.i++;
      // BRE: an anchor only at the start of the pattern or of a group or alternative (POSIX).
      return this.ere || first ? { k: 'assert', test: LINE_START } : this.literal(94);
    }
    if (c === '$') {
      this.i++;
      return this.ere || this.atEnd(depth) ? { k: 'assert', test: LINE_END } : this.literal(36);
    }
    if (c === '.') {
      this.i++;
      return { k: 'char', test: () => true };
    }
    if (c === '[') return this.bracket();
    if (c === '*' && (first || !this.ere)) {
      // A `*` with nothing to repeat is an ordinary character (BRE at the start; ERE likewise,
      // as glibc takes it).
      this.i++;
      return this.literal(42);
    }
    if (this.ere && (c === '+' || c === '?' || (c === '{' && this.interval() !== null))) {
      if (first) {
        this.i++;
        return this.literal(c.charCodeAt(0));
      }
    }
    if (c === '\\') return this.escape();
    this.i++;
    return this.literal(c.charCodeAt(0));
  }

  private escape(): Node {
    const n = this.src[this.i + 1];
    if (n === undefined) throw new RegexError(ERR.backslash);
    this.i += 2;
    if (n >= '1' && n <= '9') throw new RegexError(ERR.backref);
    if (n === 'w') return { k: 'char', test: isWordChar };
    if (n === 'W') return { k: 'char', test: (c) => !isWordChar(c) };
    if (n === 's') return { k: 'char', test: isSpace };
    if (n === 'S') return { k: 'char', test: (c) => !isSpace(c) };
    const a = ASSERTIONS[n];
    if (a !== undefined && Object.prototype.hasOwnProperty.call(ASSERTIONS, n)) return { k: 'assert', test: a };
    if (!this.ere && n === '{') throw new RegexError(ERR.preceding);
    return this.literal(n.charCodeAt(0));
  }

  /** `{m}`, `{m,}`, `{m,n}`, `{,n}` at the cursor (after the `{`): the bounds and the length. */
  private interval(): { min: number; max: number; length: number } | null {
    const open = this.ere ? '{' : '\\{';
    const close = this.ere ? '}' : '\\}';
    if (!this.at(open)) return null;
    const rest = this.src.slice(this.i + open.length);
    const m = /^([0-9]*)(,([0-9]*))?/.exec(rest)!;
    if (!rest.startsWith(close, m[0].length) || (m[1] === '' && m[3] === undefined)) {
      if (this.ere) return null; // ERE: not an interval, so `{` is an ordinary character.
      throw new RegexError(rest.includes(close) ? ERR.badBrace : ERR.brace);
    }
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > DUP_MAX || (max !== Infinity && (max > DUP_MAX || max < min))) throw new RegexError(ERR.badBrace);
    return { min, max, length: open.length + m[0].length + close.length };
  }

  private quantifiers(atom: Node): Node {
    for (;;) {
      const c = this.src[this.i];
      if (c === '*') {
        this.i++;
        atom = { k: 'repeat', node: atom, min: 0, max: Infinity };
      } else if (this.ere && (c === '+' || c === '?')) {
        this.i++;
        atom = { k: 'repeat', node: atom, min: c === '+' ? 1 : 0, max: c === '+' ? Infinity : 1 };
      } else if (!this.ere && (this.at('\\+') || this.at('\\?'))) {
        const plus = this.at('\\+');
        this.i += 2;
        atom = { k: 'repeat', node: atom, min: plus ? 1 : 0, max: plus ? Infinity : 1 };
      } else {
        const r = this.interval();
        if (r === null) return atom;
        this.i += r.length;
        atom = { k: 'repeat', node: atom, min: r.min, max: r.max };
      }
    }
  }

  /** A bracket expression, the cursor on its `[`. A backslash is an ordinary character here. */
  private bracket(): Node {
    const s = this.src;
    this.i++;
    let negate = false;
    if (s[this.i] === '^') {
      negate = true;
      this.i++;
    }
    const tests: CharTest[] = [];
    let firstItem = true;
    for (;;) {
      if (this.i >= s.length) throw new RegexError(ERR.bracket);
      const c = s[this.i]!;
      if (c === ']' && !firstItem) {
        this.i++;
        break;
      }
      firstItem = false;
      if (c === '[' && (s[this.i + 1] === ':' || s[this.i + 1] === '=' || s[this.i + 1] === '.')) {
        const kind = s[this.i + 1]!;
        const end = s.indexOf(`${kind}]`, this.i + 2);
        if (end < 0) throw new RegexError(ERR.bracket);
        const name = s.slice(this.i + 2, end);
        this.i = end + 2;
        if (kind === ':') {
          const cls = CLASSES.get(name);
          if (cls === undefined) throw new RegexError(ERR.className);
          tests.push(cls);
        } else {
          // `[=a=]` and `[.a.]`: in the C locale, the character itself.
          if (name.length !== 1) throw new RegexError(ERR.bracket);
          const code = name.charCodeAt(0);
          tests.push((x) => x === code);
        }
        continue;
      }
      const lo = c.charCodeAt(0);
      this.i++;
      if (s[this.i] === '-' && s[this.i + 1] !== undefined && s[this.i + 1] !== ']') {
        const hi = s.charCodeAt(this.i + 1);
        this.i += 2;
        if (hi < lo) throw new RegexError(ERR.range);
        tests.push((x) => x >= lo && x <= hi);
      } else {
        tests.push((x) => x === lo);
      }
    }
    // Case folding applies to the listed characters, before a `^` negates them: with -i,
    // `[^a]` matches neither `a` nor `A`.
    const listed: CharTest = (x) => tests.some((t) => t(x));
    const any = this.ignoreCase ? folded(listed) : listed;
    return { k: 'char', test: negate ? (x) => !any(x) : any };
  }
}

// ── The NFA ──────────────────────────────────────────────────────────────────────────────────

type State =
  | { k: 'char'; test: CharTest; out: State; mark: number }
  | { k: 'assert'; test: AssertTest; out: State; mark: number }
  | { k: 'split'; a: State; b: State; mark: number }
  | { k: 'match'; mark: number };

class Builder {
  count = 0;

  private made<T extends State>(s: T): T {
    if (++this.count > MAX_STATES) throw new RegexError(ERR.tooBig);
    return s;
  }

  /** The states for `node`, continuing to `next` when it has matched. */
  build(node: Node, next: State): State {
    switch (node.k) {
      case 'char':
        return this.made({ k: 'char', test: node.test, out: next, mark: -1 });
      case 'assert':
        return this.made({ k: 'assert', test: node.test, out: next, mark: -1 });
      case 'cat': {
        let s = next;
        for (let j = node.items.length - 1; j >= 0; j--) s = this.build(node.items[j]!, s);
        return s;
      }
      case 'alt': {
        let s = this.build(node.items[node.items.length - 1]!, next);
        for (let j = node.items.length - 2; j >= 0; j--) s = this.made({ k: 'split', a: this.build(node.items[j]!, next), b: s, mark: -1 });
        return s;
      }
      case 'repeat': {
        let s = next;
        if (node.max === Infinity) {
          // A loop: the split is made first so that the body can come back to it.
          const loop = this.made({ k: 'split', a: next, b: next, mark: -1 });
          loop.a = this.build(node.node, loop);
          s = loop;
        } else {
          for (let j = node.min; j < node.max; j++) s = this.made({ k: 'split', a: this.build(node.node, s), b: next, mark: -1 });
        }
        for (let j = 0; j < node.min; j++) s = this.build(node.node, s);
        return s;
      }
    }
  }
}

/** One pattern as a node: parsed, or each character literal with -F. */
function patternNode(pattern: string, opts: RegexOptions): Node {
  const parser = new Parser(pattern, opts.flavor, opts.ignoreCase);
  let node = opts.fixed ? parser.fixed() : parser.parse();
  if (opts.wholeWord) node = { k: 'cat', items: [{ k: 'assert', test: (p) => !isWordChar(p) }, node, { k: 'assert', test: (_p, n) => !isWordChar(n) }] };
  return node;
}

/**
 * Compile `patterns` (a line matches when any of them matches somewhere in it). Never throws:
 * a bad pattern is `{ ok: false, error }` with glibc's message.
 */
export function compileRegex(patterns: readonly string[], opts: RegexOptions): CompiledRegex {
  let start: State;
  try {
    const nodes = patterns.map((p) => patternNode(p, opts));
    const builder = new Builder();
    start = builder.build(nodes.length === 1 ? nodes[0]! : nodes.length === 0 ? EMPTY : { k: 'alt', items: nodes }, { k: 'match', mark: -1 });
  } catch (e) {
    if (e instanceof RegexError) return { ok: false, error: e.message };
    throw e;
  }
  let generation = 0;
  return {
    ok: true,
    test(line: string): boolean {
      let current: State[] = [];
      let gen = ++generation;
      for (let i = 0; ; i++) {
        const prev = i > 0 ? line.charCodeAt(i - 1) : -1;
        const next = i < line.length ? line.charCodeAt(i) : -1;
        // Unanchored search: a match may start at every position.
        if (addState(current, start, gen, prev, next)) return true;
        if (i >= line.length) return false;
        const after: State[] = [];
        const nextGen = ++generation;
        const following = i + 1 < line.length ? line.charCodeAt(i + 1) : -1;
        for (const s of current) {
          if (s.k === 'char' && s.test(next) && addState(after, s.out, nextGen, next, following)) return true;
        }
        current = after;
        gen = nextGen;
      }
    },
  };
}

/**
 * Add `s` and everything reachable from it without consuming a character (splits, assertions
 * that hold between `prev` and `next`) to `list`; true when the match state is reached.
 */
function addState(list: State[], s: State, gen: number, prev: number, next: number): boolean {
  const stack: State[] = [s];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t.mark === gen) continue;
    t.mark = gen;
    if (t.k === 'match') return true;
    if (t.k === 'split') {
      stack.push(t.b, t.a);
    } else if (t.k === 'assert') {
      if (t.test(prev, next)) stack.push(t.out);
    } else {
      list.push(t);
    }
  }
  return false;
}
