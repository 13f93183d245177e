// C types of the LP64 kernels the model runs (x86_64 and arm64: int 32, long and pointers 64),
// their layout, gcc's spelling of them in messages ('long unsigned int', 'int (*)(struct
// kprobe *, struct pt_regs *)', 'u32' {aka 'unsigned int'}), and C's integer semantics as the
// kernel builds it: arithmetic wraps at the type's width, signed overflow included (-fno-strict-
// overflow / -fwrapv semantics), and shift counts are taken modulo the width (what both arches'
// shift instructions do).

export interface Quals {
  readonly isConst?: boolean;
  readonly isVolatile?: boolean;
  /** The typedef name it was written with, for gcc's "'u32' {aka 'unsigned int'}". */
  readonly typedefName?: string;
}

export type IntName =
  | '_Bool' | 'char' | 'signed char' | 'unsigned char' | 'short int' | 'short unsigned int' | 'int' | 'unsigned int'
  | 'long int' | 'long unsigned int' | 'long long int' | 'long long unsigned int' | '__int128' | '__int128 unsigned';

export interface StructDef {
  readonly union: boolean;
  readonly tag?: string;
  /** Members in order, anonymous struct/union members flattened into `fields` too (with their offsets). */
  members?: readonly Field[];
  size: number;
  align: number;
  complete: boolean;
  /** Defined in a kernel header. */
  readonly system: boolean;
  /** A unique id (anonymous structs have no tag). */
  readonly id: number;
}

export interface Field {
  readonly name?: string;
  readonly type: CType;
  readonly offset: number;
}

export interface EnumDef {
  readonly tag?: string;
  readonly id: number;
}

export type CType = Quals &
  (
    | { readonly kind: 'void' }
    | { readonly kind: 'int'; readonly name: IntName; readonly size: 1 | 2 | 4 | 8 | 16; readonly signed: boolean; readonly enumDef?: EnumDef }
    | { readonly kind: 'float'; readonly name: 'float' | 'double' | 'long double'; readonly size: 4 | 8 | 16 }
    | { readonly kind: 'pointer'; readonly to: CType }
    | { readonly kind: 'array'; readonly of: CType; readonly length?: number }
    | {
        readonly kind: 'function';
        readonly ret: CType;
        /** Undefined: declared without a prototype (`f()`). */
        readonly params?: readonly CType[];
        readonly variadic: boolean;
      }
    | { readonly kind: 'struct'; readonly def: StructDef }
  );

const int = (name: IntName, size: 1 | 2 | 4 | 8 | 16, signed: boolean): CType => ({ kind: 'int', name, size, signed });

export const T = {
  void: { kind: 'void' } as CType,
  bool: int('_Bool', 1, false),
  char: (signed: boolean): CType => ({ kind: 'int', name: 'char', size: 1, signed }),
  schar: int('signed char', 1, true),
  uchar: int('unsigned char', 1, false),
  short: int('short int', 2, true),
  ushort: int('short unsigned int', 2, false),
  int: int('int', 4, true),
  uint: int('unsigned int', 4, false),
  long: int('long int', 8, true),
  ulong: int('long unsigned int', 8, false),
  llong: int('long long int', 8, true),
  ullong: int('long long unsigned int', 8, false),
  int128: int('__int128', 16, true),
  uint128: int('__int128 unsigned', 16, false),
};

export const pointerTo = (to: CType): CType => ({ kind: 'pointer', to });

/** The type without qualifiers and typedef name (what conversions look at). */
export function unqual(t: CType): CType {
  if (!t.isConst && !t.isVolatile && !t.typedefName) return t;
  const { isConst, isVolatile, typedefName, ...rest } = t;
  void isConst;
  void isVolatile;
  void typedefName;
  return rest as CType;
}

export const isInteger = (t: CType): t is Extract<CType, { kind: 'int' }> => t.kind === 'int';
export const isArithmetic = (t: CType): boolean => t.kind === 'int' || t.kind === 'float';
export const isScalar = (t: CType): boolean => isArithmetic(t) || t.kind === 'pointer';
export const isVoidPointer = (t: CType): boolean => t.kind === 'pointer' && t.to.kind === 'void';

export function sizeOf(t: CType): number | undefined {
  switch (t.kind) {
    case 'void':
      return 1; // GNU: sizeof(void) == 1
    case 'int':
    case 'float':
      return t.size;
    case 'pointer':
      return 8;
    case 'array': {
      const e = sizeOf(t.of);
      return t.length === undefined || e === undefined ? undefined : e * t.length;
    }
    case 'function':
      return 1; // GNU
    case 'struct':
      return t.def.complete ? t.def.size : undefined;
  }
}

export function alignOf(t: CType): number {
  switch (t.kind) {
    case 'int':
    case 'float':
      return t.size;
    case 'pointer':
      return 8;
    case 'array':
      return alignOf(t.of);
    case 'struct':
      return t.def.align;
    default:
      return 1;
  }
}

/** Integer promotion (C11 6.3.1.1): ranks below int become int. */
export function promote(t: CType): CType {
  const u = unqual(t);
  if (u.kind === 'int' && u.size < 4) return T.int;
  if (u.kind === 'int' && u.enumDef) return T.int;
  return u;
}

const RANK: Readonly<Record<number, number>> = { 1: 1, 2: 2, 4: 3, 8: 4, 16: 5 };

/** The usual arithmetic conversions (C11 6.3.1.8) of two integer types. */
export function usualArithmetic(a: CType, b: CType): CType {
  const px = promote(a);
  const py = promote(b);
  if (px.kind !== 'int' || py.kind !== 'int') return px.kind === 'float' ? px : py;
  const x = px;
  const y = py;
  if (x.name === y.name) return x;
  if (x.signed === y.signed) return RANK[x.size]! >= RANK[y.size]! ? x : y;
  const [s, u] = x.signed ? [x, y] : [y, x];
  if (RANK[u.size]! >= RANK[s.size]!) return u;
  if (s.size > u.size) return s; // the signed type holds every value of the unsigned one
  return unsignedOf(s);
}

export function unsignedOf(t: Extract<CType, { kind: 'int' }>): CType {
  switch (t.size) {
    case 1:
      return T.uchar;
    case 2:
      return T.ushort;
    case 4:
      return T.uint;
    case 8:
      return t.name.startsWith('long long') ? T.ullong : T.ulong;
    default:
      return T.uint128;
  }
}

/** A value wrapped into an integer type (two's complement at its width). */
export function wrap(value: bigint, t: CType): bigint {
  const u = unqual(t);
  if (u.kind === 'pointer') return BigInt.asUintN(64, value);
  if (u.kind !== 'int') return value;
  if (u.name === '_Bool') return value !== 0n ? 1n : 0n;
  const bits = u.size * 8;
  return u.signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
}

/**
 * An integer binary operation as the kernel's build computes it, in type `t` (operands
 * already converted to it): wrap-around, division truncating toward zero; undefined for a
 * division by zero (the CPU's divide error: the interpreter raises it).
 */
export function intBinary(op: string, a: bigint, b: bigint, t: CType): bigint | undefined {
  const u = unqual(t) as Extract<CType, { kind: 'int' }>;
  const bits = BigInt((u.kind === 'int' ? u.size : 8) * 8);
  switch (op) {
    case '+':
      return wrap(a + b, t);
    case '-':
      return wrap(a - b, t);
    case '*':
      return wrap(a * b, t);
    case '/':
      if (b === 0n) return undefined;
      return wrap(a / b, t); // BigInt division truncates toward zero, as C's
    case '%':
      if (b === 0n) return undefined;
      return wrap(a % b, t);
    case '<<':
      return wrap(a << BigInt.asUintN(64, b) % bits, t);
    case '>>':
      return wrap(a >> BigInt.asUintN(64, b) % bits, t); // arithmetic for signed (sign kept by BigInt), logical for unsigned
    case '&':
      return wrap(a & b, t);
    case '|':
      return wrap(a | b, t);
    case '^':
      return wrap(a ^ b, t);
    default:
      return undefined;
  }
}

/** A comparison of two values of the same (converted) type: 1 or 0. */
export function intCompare(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case '<':
      return a < b ? 1n : 0n;
    case '>':
      return a > b ? 1n : 0n;
    case '<=':
      return a <= b ? 1n : 0n;
    case '>=':
      return a >= b ? 1n : 0n;
    case '==':
      return a === b ? 1n : 0n;
    default:
      return a !== b ? 1n : 0n;
  }
}

// ---- compatibility ----

/** Whether two types are compatible (C11 6.2.7), ignoring top-level qualifiers. */
export function compatible(a: CType, b: CType): boolean {
  const x = unqual(a);
  const y = unqual(b);
  if (x.kind !== y.kind) return false;
  switch (x.kind) {
    case 'void':
      return true;
    case 'int':
      return (y as typeof x).name === x.name && (y as typeof x).signed === x.signed && (y as typeof x).enumDef === x.enumDef;
    case 'float':
      return (y as typeof x).name === x.name;
    case 'pointer': {
      const yt = (y as typeof x).to;
      return !!x.to.isConst === !!yt.isConst && !!x.to.isVolatile === !!yt.isVolatile && compatible(x.to, yt);
    }
    case 'array': {
      const ya = y as typeof x;
      return compatible(x.of, ya.of) && (x.length === undefined || ya.length === undefined || x.length === ya.length);
    }
    case 'struct':
      return x.def === (y as typeof x).def;
    case 'function': {
      const yf = y as typeof x;
      if (!compatible(x.ret, yf.ret)) return false;
      if (!x.params || !yf.params) return true;
      return x.params.length === yf.params.length && x.variadic === yf.variadic && x.params.every((p, i) => compatible(p, yf.params![i]!));
    }
  }
}

// ---- gcc's spelling ----

function specifier(t: CType): string {
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'int':
      return t.enumDef ? `enum ${t.enumDef.tag ?? '<anonymous>'}` : t.name;
    case 'float':
      return t.name;
    case 'struct':
      return `${t.def.union ? 'union' : 'struct'} ${t.def.tag ?? '<anonymous>'}`;
    default:
      return '';
  }
}

/** The type as gcc writes it in a message (without the aka part). */
export function typeName(t: CType): string {
  return render(t, '').trim();
}

function quals(t: CType): string {
  return (t.isConst ? 'const ' : '') + (t.isVolatile ? 'volatile ' : '');
}

function render(t: CType, inner: string): string {
  if (t.typedefName) return joinDecl(quals(t) + t.typedefName, inner);
  switch (t.kind) {
    case 'pointer': {
      const q = (t.isConst ? ' const' : '') + (t.isVolatile ? ' volatile' : '');
      const needParen = t.to.kind === 'array' || t.to.kind === 'function';
      const star = '*' + q + (q && inner ? ' ' : '') + inner;
      return render(t.to, needParen ? `(${star})` : star);
    }
    case 'array':
      return render(t.of, `${inner}[${t.length ?? ''}]`);
    case 'function': {
      const ps = t.params === undefined ? '' : t.params.length === 0 && !t.variadic ? 'void' : [...t.params.map((p) => typeName(p)), ...(t.variadic ? ['...'] : [])].join(', ');
      return render(t.ret, `${inner}(${ps})`);
    }
    default:
      return joinDecl(quals(t) + specifier(t), inner);
  }
}

function joinDecl(spec: string, inner: string): string {
  if (!inner) return spec;
  return inner.startsWith('[') || inner.startsWith('(') ? `${spec}${inner}` : `${spec} ${inner}`;
}

/** gcc's quoted form: 'u32' {aka 'unsigned int'} when a typedef hides the type. */
export function quoteType(t: CType): string {
  const shown = typeName(t);
  const plain = typeName(stripTypedefs(t));
  return shown === plain ? `'${shown}'` : `'${shown}' {aka '${plain}'}`;
}

export function stripTypedefs(t: CType): CType {
  const base = t.typedefName ? ({ ...t, typedefName: undefined } as CType) : t;
  switch (base.kind) {
    case 'pointer':
      return { ...base, to: stripTypedefs(base.to) };
    case 'array':
      return { ...base, of: stripTypedefs(base.of) };
    case 'function':
      return { ...base, ret: stripTypedefs(base.ret), ...(base.params ? { params: base.params.map(stripTypedefs) } : {}) };
    default:
      return base;
  }
}

/** Lays out a struct or union's fields (gcc's natural alignment; no bit-fields). */
export function layout(def: StructDef, fields: ReadonlyArray<{ name?: string; type: CType }>): void {
  let offset = 0;
  let align = 1;
  let size = 0;
  const out: Field[] = [];
  for (const f of fields) {
    const a = alignOf(f.type);
    const s = sizeOf(f.type) ?? 0;
    align = Math.max(align, a);
    if (def.union) {
      out.push({ ...f, offset: 0 });
      size = Math.max(size, s);
    } else {
      offset = Math.ceil(offset / a) * a;
      out.push({ ...f, offset });
      offset += s;
      size = offset;
    }
  }
  def.members = out;
  def.align = align;
  def.size = Math.ceil(size / align) * align;
  def.complete = true;
}

/** Finds a member by name, looking into anonymous struct/union members; with its offset. */
export function findMember(def: StructDef, name: string): Field | undefined {
  for (const f of def.members ?? []) {
    if (f.name === name) return f;
    if (f.name === undefined && f.type.kind === 'struct') {
      const inner = findMember(f.type.def, name);
      if (inner) return { ...inner, offset: f.offset + inner.offset };
    }
  }
  return undefined;
}

/** Every member name reachable (for gcc's "did you mean" suggestion). */
export function memberNames(def: StructDef): string[] {
  const out: string[] = [];
  for (const f of def.members ?? []) {
    if (f.name !== undefined) out.push(f.name);
    else if (f.type.kind === 'struct') out.push(...memberNames(f.type.def));
  }
  return out;
}
