// BTF-based arguments (spec R129, R130): parameter names, `->`/`.` field access, `$retval` typing,
// and the BTF-derived fetch types. Mirrors parse_btf_arg()/parse_btf_field() of trace_probe.c over
// the reduced BtfType model of types.ts. Internal to the tracefs parser.
//
// Approximations (not reproducible from the kernel source because they read out of bounds or
// compute with stale pointers), documented so the integrator knows:
//  * after the last field of a `a->b` chain the kernel adds `NULL - fieldname` to the error offset;
//    later errors of that argument then have an unpredictable column. Here the offset stays at the
//    last field's column.
//  * `char *` detection for string types looks only at real pointer types here.

import { Errno } from './errors.ts';
import { FETCH_INSN_MAX, type Box, type ParserState } from './parse-state.ts';
import type { BtfMember, BtfType, FetchNode, FetchTypeName } from './types.ts';

/** query_btf_context(): 0 or a negative errno; caches the prototype in the state. */
export function queryBtf(st: ParserState): number {
  if (st.btfProto) return 0;
  if (!st.ctx.btf) return -Errno.EOPNOTSUPP;
  if (st.funcname === null) return -Errno.EINVAL;
  const proto = st.ctx.btf.funcProto(st.funcname);
  if (!proto) return -Errno.ENOENT;
  st.btfProto = proto;
  return 0;
}

export function btfParamCount(st: ParserState): number {
  return st.btfProto ? st.btfProto.params.length : 0;
}

interface FieldSplit {
  readonly name: string;
  readonly next: string | null;
  /** Length of `name` plus the separator (what the kernel adds to the error offset). */
  readonly advance: number;
  readonly isPtr: boolean;
}

/** split_next_field(): split at the first '.' or '->'; a lone '-' is BAD_HYPHEN. */
function splitNextField(st: ParserState, varname: string): FieldSplit {
  let k = -1;
  for (let i = 0; i < varname.length; i++) {
    const c = varname[i];
    if (c === '.' || c === '-') {
      k = i;
      break;
    }
  }
  if (k < 0) return { name: varname, next: null, advance: 0, isPtr: false };
  if (varname[k] === '-' && varname[k + 1] === '>') {
    return { name: varname.slice(0, k), next: varname.slice(k + 2), advance: k + 2, isPtr: true };
  }
  if (varname[k] === '.') {
    return { name: varname.slice(0, k), next: varname.slice(k + 1), advance: k + 1, isPtr: false };
  }
  return st.log.fail(st.offset + k, 'BAD_HYPHEN', Errno.EINVAL);
}

type MemberLookup = { readonly member: BtfMember; readonly anonOffset: number } | null | 'not-struct';

/** btf_find_struct_member(): direct members first, then anonymous members (LIFO, offset replaced). */
function findStructMember(type: BtfType | null, name: string): MemberLookup {
  let cur: BtfType | null = type;
  let anonOffset = 0;
  const stack: { type: BtfType; offset: number }[] = [];
  for (;;) {
    if (!cur || (cur.kind !== 'struct' && cur.kind !== 'union')) return 'not-struct';
    for (const m of cur.members) {
      if (m.name === '') {
        if (stack.length < 16) stack.push({ type: m.type, offset: m.bitOffset });
      } else if (m.name === name) {
        return { member: m, anonOffset };
      }
    }
    const top = stack.pop();
    if (!top) return null;
    cur = top.type;
    anonOffset = top.offset;
  }
}

/** parse_btf_field(): each `->` level becomes one dereference of the struct member's offset. */
function parseBtfField(st: ParserState, fieldname: string, type: BtfType, base: FetchNode, pcode: Box): FetchNode {
  let node = base;
  let c = pcode.i;
  let fname: string | null = fieldname;
  let ty: BtfType | null = type;
  do {
    if (!ty || ty.kind !== 'ptr') return st.log.fail(st.offset, 'NO_PTR_STRCT', Errno.EINVAL);
    let cur: BtfType | null = ty.target;
    let bitoffs = 0;
    let isPtr = false;
    do {
      const sp = splitNextField(st, fname as string);
      isPtr = sp.isPtr;
      const m = findStructMember(cur, sp.name);
      if (m === 'not-struct') return st.log.fail(st.offset, 'BAD_BTF_TID', Errno.EINVAL);
      if (m === null) return st.log.fail(st.offset, 'NO_BTF_FIELD', Errno.ENOENT);
      bitoffs += m.anonOffset + m.member.bitOffset;
      st.lastBitsize = m.member.bitfieldSize ?? 0;
      cur = m.member.type;
      if (sp.next !== null) st.offset += sp.advance;
      fname = sp.next;
    } while (!isPtr && fname !== null);
    if (++c === FETCH_INSN_MAX - 1) return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.EINVAL);
    st.code[c] = 'DEREF';
    node = { kind: 'deref', offset: BigInt(Math.floor(bitoffs / 8)), user: false, inner: node };
    pcode.i = c;
    st.lastBitoffs = bitoffs % 8;
    st.lastType = cur;
    ty = cur;
  } while (fname !== null);
  return node;
}

/** parse_btf_arg(): a parameter name (optionally with fields), or `$retval` on a return probe. */
export function parseBtfArg(st: ParserState, varname: string, pcode: Box): FetchNode {
  const sp = splitNextField(st, varname);
  if (!sp.isPtr && sp.next !== null) {
    return st.log.fail(st.offset + sp.advance, 'NOSUP_DAT_ARG', Errno.EOPNOTSUPP);
  }
  const c = pcode.i;
  let node: FetchNode;
  let type: BtfType;
  if (st.isReturnCtx && sp.name === '$retval') {
    st.code[c] = 'RETVAL';
    node = { kind: 'retval' };
    if (queryBtf(st) === 0 && st.btfProto) {
      if (st.btfProto.returnType === null) return st.log.fail(st.offset, 'NO_RETVAL', Errno.ENOENT);
      type = st.btfProto.returnType;
    } else {
      if (sp.next !== null) return st.log.fail(st.offset + sp.advance, 'NO_BTF_ENTRY', Errno.ENOENT);
      return node;
    }
  } else {
    if (!st.btfProto) {
      const r = queryBtf(st);
      if (r < 0 || btfParamCount(st) === 0) return st.log.fail(st.offset, 'NO_BTF_ENTRY', Errno.ENOENT);
    }
    const params = st.btfProto ? st.btfProto.params : [];
    const i = params.findIndex((p) => p.name === sp.name);
    const param = params[i];
    if (!param) return st.log.fail(st.offset, 'NO_BTFARG', Errno.ENOENT);
    if (st.isEntryCtx) {
      st.code[c] = 'ARG';
      node = { kind: 'arg', index: i + 1, fromEntry: false };
    } else {
      st.code[c] = 'EDATA';
      node = { kind: 'arg', index: i + 1, fromEntry: true };
    }
    type = param.type;
  }
  st.lastType = type;
  st.lastBitoffs = 0;
  st.lastBitsize = 0;
  if (sp.next !== null) {
    st.offset += sp.advance;
    return parseBtfField(st, sp.next, type, node, pcode);
  }
  return node;
}

/** fetch_type_from_btf_type(): the fetch type implied by the last BTF type, or null (→ x64). */
export function fetchTypeFromBtf(st: ParserState): FetchTypeName | null {
  const t = st.lastType;
  if (!t) return null;
  switch (t.kind) {
    case 'enum':
      return t.size === 8 ? 's64' : 's32';
    case 'ptr':
      return 'x64';
    case 'int':
      if (t.signed) {
        switch (t.bits) {
          case 8: return 's8';
          case 16: return 's16';
          case 32: return 's32';
          case 64: return 's64';
          default: return null;
        }
      }
      switch (t.bits) {
        case 8: return 'u8';
        case 16: return 'u16';
        case 32: return 'u32';
        case 64: return 'u64';
        default:
          st.lastBitsize = t.bits;
          st.lastBitoffs += t.bitOffset ?? 0;
          return 'u64';
      }
    default:
      return null;
  }
}

function isUnsignedByte(t: BtfType | null): boolean {
  return t !== null && t.kind === 'int' && !t.signed && t.bits === 8;
}

/**
 * check_prepare_btf_string_fetch(): `char[]` is read in place, `char *` gets one more dereference,
 * anything else is BAD_TYPE4STR. Returns the (possibly wrapped) fetch node.
 */
export function checkPrepareBtfStringFetch(st: ParserState, typeName: string, node: FetchNode, pcode: Box): FetchNode {
  const t = st.lastType;
  if (!t) return node;
  if (t.kind === 'array' && isUnsignedByte(t.element)) return node;
  if (t.kind === 'ptr' && isUnsignedByte(t.target)) {
    const c = pcode.i + 1;
    if (st.code[c] === 'END') return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.E2BIG);
    const user = typeName[0] === 'u';
    st.code[c] = user ? 'UDEREF' : 'DEREF';
    pcode.i = c;
    return { kind: 'deref', offset: 0n, user, inner: node };
  }
  return st.log.fail(st.offset, 'BAD_TYPE4STR', Errno.EINVAL);
}

/** parse_btf_bitfield(): a BTF bitfield member adds a bit-extraction step. */
export function parseBtfBitfield(st: ParserState, pcode: Box): { width: number; offset: number } | null {
  if (st.lastBitsize % 8 === 0 && st.lastBitoffs === 0) return null;
  const c = pcode.i + 1;
  if (st.code[c] !== 'NOP') return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.EINVAL);
  st.code[c] = 'MOD_BF';
  pcode.i = c;
  return { width: st.lastBitsize, offset: st.lastBitoffs };
}
