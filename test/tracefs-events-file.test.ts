// Write semantics of `kprobe_events` (spec §15.1, §15.11–§15.14, R150 steps 9–10, R151, R159).
// Expected keys and carets come from the spec and kprobe_syntax_errors.tc (caret notation).

import { describe, expect, it } from 'vitest';
import { Errno, type ErrorKey } from '../src/tracefs/errors.ts';
import {
  EMPTY_EVENTS_FILE,
  listEvents,
  openEventsFile,
  readEventsFile,
  writeEventsFile,
  type EventsEnv,
  type EventsFile,
  type WriteResult,
} from '../src/tracefs/events-file.ts';
import { simpleContext } from '../src/tracefs/simple-context.ts';
import type { ProbeDefinition } from '../src/tracefs/types.ts';

const parse = simpleContext({
  symbols: ['vfs_read', 'kernel_clone', 'do_exit', 'do_sys_openat2', { name: 'mod_func', module: 'mymod' }],
  modules: ['mymod'],
});

interface FakeKernel extends EventsEnv {
  enabled: Set<string>;
  busy: Set<string>;
  registerResult: (p: ProbeDefinition) => number;
}

function kernel(overrides: Partial<Pick<FakeKernel, 'registerResult'>> & { defaultMaxactive?: number } = {}): FakeKernel {
  const k: FakeKernel = {
    parse,
    enabled: new Set(),
    busy: new Set(),
    registerResult: overrides.registerResult ?? (() => 0),
    isEnabled: (g, e) => k.enabled.has(`${g}/${e}`),
    isBusy: (g, e) => k.busy.has(`${g}/${e}`),
    eventExists: (g, e) => g === 'sched' && e === 'sched_switch',
    register: (p) => k.registerResult(p),
    ...(overrides.defaultMaxactive !== undefined ? { defaultMaxactive: overrides.defaultMaxactive } : {}),
  };
  return k;
}

function write(state: EventsFile, data: string, env: EventsEnv): WriteResult {
  return writeEventsFile(state, data, env);
}

/** Write lines (all must succeed). */
function setup(env: EventsEnv, ...lines: string[]): EventsFile {
  const r = write(EMPTY_EVENTS_FILE, lines.map((l) => `${l}\n`).join(''), env);
  if (r.errno !== 0) throw new Error(`setup failed at line ${r.failedLine}: errno ${r.errno} ${JSON.stringify(r.logged)}`);
  return r.state;
}

/** Expect one error_log entry with the caret where '^' is. */
function expectLogged(state: EventsFile, env: EventsEnv, withCaret: string, key: ErrorKey, errno: number): WriteResult {
  const pos = withCaret.indexOf('^');
  const cmd = withCaret.slice(0, pos) + withCaret.slice(pos + 1);
  const r = write(state, `${cmd}\n`, env);
  expect(r.errno).toBe(errno);
  expect(r.logged.map((l) => [l.error.key, l.error.offset, l.command])).toEqual([[key, pos, cmd.trim()]]);
  expect(r.state).toEqual(state);
  return r;
}

describe('§15.1 write semantics', () => {
  it('R102: lines run in order; the first failing line stops and earlier lines stay', () => {
    const env = kernel();
    const r = write(EMPTY_EVENTS_FILE, 'p:a vfs_read\np:b do_exit\np:c nosuch\np:d do_sys_openat2\n', env);
    expect(r.errno).toBe(Errno.EINVAL);
    expect(r.failedLine).toBe(2);
    expect(r.added.map((p) => p.probe.event)).toEqual(['a', 'b']);
    expect(readEventsFile(r.state)).toBe('p:kprobes/a vfs_read\np:kprobes/b do_exit\n');
  });
  it('R102: comments and blank lines are no-ops', () => {
    const r = write(EMPTY_EVENTS_FILE, '# a comment\n\np:a vfs_read # trailing\n   \n', kernel());
    expect(r.errno).toBe(0);
    expect(r.added).toHaveLength(1);
    expect(r.bytes).toBe(41);
  });
  it('R102: a line longer than 4094 bytes → -EINVAL without an error_log entry', () => {
    const line = `p:a vfs_read #${'x'.repeat(4095 - 14)}`; // 4095 bytes
    expect(line.length).toBe(4095);
    const terminated = write(EMPTY_EVENTS_FILE, `${line}\n`, kernel());
    expect(terminated).toMatchObject({ errno: Errno.EINVAL, logged: [], added: [] });
    expect(write(EMPTY_EVENTS_FILE, `${line.slice(1)}\n`, kernel()).errno).toBe(Errno.EINVAL); // "…" not a command
    expect(write(EMPTY_EVENTS_FILE, `${line.slice(0, 4094)}\n`, kernel()).errno).toBe(0);
  });
  it('R102: an unterminated final line of exactly 4095 bytes is still accepted', () => {
    const line = `p:a vfs_read #${'x'.repeat(4095 - 14)}`;
    expect(write(EMPTY_EVENTS_FILE, line, kernel()).errno).toBe(0);
    expect(write(EMPTY_EVENTS_FILE, `${line}x`, kernel()).errno).toBe(Errno.EINVAL);
  });
  it('R102: earlier lines of the write stay when a later line is too long', () => {
    const r = write(EMPTY_EVENTS_FILE, `p:a vfs_read\n${'p'.repeat(5000)}\n`, kernel());
    expect(r.errno).toBe(Errno.EINVAL);
    expect(r.state.probes).toHaveLength(1);
  });
  it('R103: truncation deletes every kprobe event', () => {
    const env = kernel();
    const s = setup(env, 'p:a vfs_read', 'r:b do_exit');
    const o = openEventsFile(s, { truncate: true }, env);
    expect(o.errno).toBe(0);
    expect(o.state.probes).toEqual([]);
    expect(o.removed.map((p) => p.probe.event)).toEqual(['a', 'b']);
  });
  it('R103: if any event is enabled the open fails with EBUSY and nothing is deleted', () => {
    const env = kernel();
    const s = setup(env, 'p:a vfs_read', 'p:b do_exit');
    env.enabled.add('kprobes/b');
    const o = openEventsFile(s, { truncate: true }, env);
    expect(o).toMatchObject({ errno: Errno.EBUSY, removed: [] });
    expect(o.state).toBe(s);
  });
  it('R103: a later per-event failure stops the deletion; earlier deletions stay', () => {
    const env = kernel();
    const s = setup(env, 'p:a vfs_read', 'p:b do_exit', 'p:c do_sys_openat2');
    env.busy.add('kprobes/b');
    const o = openEventsFile(s, { truncate: true }, env);
    expect(o.errno).toBe(Errno.EBUSY);
    expect(o.removed.map((p) => p.probe.event)).toEqual(['a']);
    expect(o.state.probes.map((p) => p.probe.event)).toEqual(['b', 'c']);
  });
  it('R103: appending deletes nothing', () => {
    const env = kernel();
    const s = setup(env, 'p:a vfs_read');
    expect(openEventsFile(s, { truncate: false }, env)).toMatchObject({ state: s, errno: 0, removed: [] });
  });
  it('R105: a non-probe line fails with EINVAL and logs nothing', () => {
    const r = write(EMPTY_EVENTS_FILE, 'x vfs_read\n', kernel());
    expect(r).toMatchObject({ errno: Errno.EINVAL, logged: [] });
  });
  it('R159: a failing create logs exactly one entry', () => {
    const r = write(EMPTY_EVENTS_FILE, 'p:a vfs_read %bad %worse\n', kernel());
    expect(r.logged).toHaveLength(1);
    expect(r.logged[0]?.error).toMatchObject({ key: 'BAD_REG_NAME', offset: 13 });
  });
});

describe('§15.11 multi-probe events', () => {
  const FORK = 'kernel_clone';
  function withTestevent(env: EventsEnv): EventsFile {
    return setup(env, `p:kprobes/testevent ${FORK} abcd=\\1`);
  }
  it('R131: a probe with the name of an existing kprobe event is appended to it', () => {
    const env = kernel();
    const s = withTestevent(env);
    const r = write(s, 'p:kprobes/testevent do_exit abcd=\\1\n', env);
    expect(r.errno).toBe(0);
    expect(listEvents(r.state)).toHaveLength(1);
    expect(listEvents(r.state)[0]?.probes).toHaveLength(2);
    expect(readEventsFile(r.state)).toBe(
      `p:kprobes/testevent ${FORK} abcd=\\1\np:kprobes/testevent do_exit abcd=\\1\n`,
    );
  });
  it('R131: kprobe vs kretprobe → DIFF_PROBE_TYPE at column 0 (selftest)', () => {
    const env = kernel();
    const s = setup(env, `p:kprobes/testevent ${FORK}`);
    expectLogged(s, env, '^r:kprobes/testevent do_exit', 'DIFF_PROBE_TYPE', Errno.EEXIST);
  });
  it('R131: a different name, type or kind → DIFF_ARG_TYPE at that fetcharg (selftest)', () => {
    const env = kernel();
    const s = withTestevent(env);
    expectLogged(s, env, `p:kprobes/testevent ${FORK} ^bcd=\\1`, 'DIFF_ARG_TYPE', Errno.EEXIST);
    expectLogged(s, env, `p:kprobes/testevent ${FORK} ^abcd=\\1:u8`, 'DIFF_ARG_TYPE', Errno.EEXIST);
    expectLogged(s, env, `p:kprobes/testevent ${FORK} ^abcd=\\"foo"`, 'DIFF_ARG_TYPE', Errno.EEXIST);
  });
  it('R131: more arguments → the first extra one; fewer → past the last token', () => {
    const env = kernel();
    const s = withTestevent(env);
    expectLogged(s, env, 'p:kprobes/testevent do_exit abcd=\\1 ^x=%ax', 'DIFF_ARG_TYPE', Errno.EEXIST);
    // Σ(len(tj)+1) = command length + 1
    expectLogged(s, env, 'p:kprobes/testevent do_exit ^', 'DIFF_ARG_TYPE', Errno.EEXIST);
  });
  it('R131: an array length difference → DIFF_ARG_TYPE', () => {
    const env = kernel();
    const s = setup(env, 'p:ev vfs_read x=+0(%ax):u8[2]');
    expectLogged(s, env, 'p:ev do_exit ^x=+0(%ax):u8[3]', 'DIFF_ARG_TYPE', Errno.EEXIST);
  });
  it('R131: same location and argument texts → SAME_PROBE at column 0 (selftest)', () => {
    const env = kernel();
    const s = withTestevent(env);
    expectLogged(s, env, `^p:kprobes/testevent ${FORK} abcd=\\1`, 'SAME_PROBE', Errno.EEXIST);
  });
  it('R131: same location, different argument text (same type) is appended', () => {
    const env = kernel();
    const s = withTestevent(env);
    expect(write(s, `p:kprobes/testevent ${FORK} abcd=\\2\n`, env).errno).toBe(0);
  });
  it('R131: address probes all compare as "unknown"+0 → SAME_PROBE even for different addresses', () => {
    const env = kernel();
    const s = setup(env, 'p:ev 0x1000 x=%ax');
    expectLogged(s, env, '^p:ev 0x2000 x=%ax', 'SAME_PROBE', Errno.EEXIST);
  });
  it('R132: a name used by a non-kprobe event → EVENT_EXIST at column 0', () => {
    const env = kernel();
    expectLogged(EMPTY_EVENTS_FILE, env, '^p:sched/sched_switch vfs_read', 'EVENT_EXIST', Errno.EEXIST);
  });
  it('R150: append checks (step 9) come before registration (step 10)', () => {
    const env = kernel({ registerResult: () => -Errno.EILSEQ });
    const s = setup(kernel(), `p:kprobes/testevent ${FORK}`);
    expectLogged(s, env, '^r:kprobes/testevent do_exit', 'DIFF_PROBE_TYPE', Errno.EEXIST);
  });
});

describe('§15.12 deleting', () => {
  it('R133: -:EVENT deletes the event in any group; no match → ENOENT', () => {
    const env = kernel();
    const s = setup(env, 'p:g1/ev vfs_read', 'p:g2/ev do_exit', 'p:other vfs_read');
    const r = write(s, '-:ev\n', env);
    expect(r.errno).toBe(0);
    expect(r.removed.map((p) => `${p.probe.group}/${p.probe.event}`)).toEqual(['g1/ev', 'g2/ev']);
    expect(write(r.state, '-:ev\n', env)).toMatchObject({ errno: Errno.ENOENT, logged: [] });
  });
  it('R133: -:GROUP/EVENT only matches that group; -:GROUP/ deletes the whole group', () => {
    const env = kernel();
    const s = setup(env, 'p:g1/a vfs_read', 'p:g1/b do_exit', 'p:g2/a vfs_read');
    expect(write(s, '-:g2/a\n', env).removed.map((p) => p.probe.group)).toEqual(['g2']);
    const r = write(s, '-:g1/\n', env);
    expect(r.removed.map((p) => p.probe.event)).toEqual(['a', 'b']);
    expect(readEventsFile(r.state)).toBe('p:g2/a vfs_read\n');
  });
  it('R133: -x / -: → EINVAL without an error_log entry', () => {
    const env = kernel();
    expect(write(EMPTY_EVENTS_FILE, '-:\n', env)).toMatchObject({ errno: Errno.EINVAL, logged: [] });
    expect(write(EMPTY_EVENTS_FILE, '-x\n', env)).toMatchObject({ errno: Errno.EINVAL, logged: [] });
  });
  it('R133: match tokens select probes of a multi-probe event by location and name=text', () => {
    const env = kernel();
    const s = setup(env, 'p:ev vfs_read x=%ax', 'p:ev do_exit x=%bx', 'p:ev vfs_read+4 x=%cx');
    expect(write(s, '-:ev do_exit\n', env).removed.map((p) => p.id)).toEqual([2]);
    expect(write(s, '-:ev vfs_read+4 x=%cx\n', env).removed.map((p) => p.id)).toEqual([3]);
    expect(write(s, '-:ev vfs_read x=%bx\n', env).errno).toBe(Errno.ENOENT);
    expect(write(s, '-:ev vfs_read x=%ax y=%dx\n', env).errno).toBe(Errno.ENOENT);
  });
  it('R133: deleting an enabled or busy event → EBUSY', () => {
    const env = kernel();
    const s = setup(env, 'p:a vfs_read', 'p:b do_exit');
    env.enabled.add('kprobes/a');
    env.busy.add('kprobes/b');
    expect(write(s, '-:a\n', env)).toMatchObject({ errno: Errno.EBUSY, removed: [], logged: [] });
    expect(write(s, '-:b\n', env)).toMatchObject({ errno: Errno.EBUSY, removed: [] });
  });
  it('R133: on an enabled multi-probe event all but the last probe go, then EBUSY', () => {
    const env = kernel();
    const s = setup(env, 'p:ev vfs_read', 'p:ev do_exit', 'p:ev do_sys_openat2');
    env.enabled.add('kprobes/ev');
    const r = write(s, '-:ev\n', env);
    expect(r.errno).toBe(Errno.EBUSY);
    expect(r.removed.map((p) => p.id)).toEqual([1, 2]);
    expect(r.state.probes.map((p) => p.id)).toEqual([3]);
  });
});

describe('§15.13/R151 registration errors', () => {
  it('R151: -EILSEQ → BAD_INSN_BNDRY at the location (selftest)', () => {
    const env = kernel({ registerResult: () => -Errno.EILSEQ });
    expectLogged(EMPTY_EVENTS_FILE, env, 'p ^vfs_read+3', 'BAD_INSN_BNDRY', Errno.EILSEQ);
  });
  it('R151: -ENOENT → BAD_PROBE_ADDR at the location', () => {
    const env = kernel({ registerResult: () => -Errno.ENOENT });
    expectLogged(EMPTY_EVENTS_FILE, env, 'p:ev ^vfs_read @nosuchsym', 'BAD_PROBE_ADDR', Errno.ENOENT);
  });
  it('R151: -ENOENT is success when the module is not loaded (the probe is kept unregistered)', () => {
    const env = kernel({ registerResult: () => -Errno.ENOENT, defaultMaxactive: 20 });
    const r = write(EMPTY_EVENTS_FILE, 'r:ev notloaded:func\n', env);
    expect(r.errno).toBe(0);
    expect(r.added[0]).toMatchObject({ registered: false, maxactive: 0 });
    expect(readEventsFile(r.state)).toBe('r:kprobes/ev notloaded:func\n');
  });
  it('R151: the same holds for a bare address', () => {
    const env = kernel({ registerResult: () => -Errno.ENOENT });
    const r = write(EMPTY_EVENTS_FILE, 'p:ev 0x1000 @nosuchsym\n', env);
    expect(r.errno).toBe(0);
    expect(r.added[0]?.registered).toBe(false);
  });
  it('R151/R135: other errors → FAIL_REG_PROBE with the original errno', () => {
    expectLogged(EMPTY_EVENTS_FILE, kernel({ registerResult: () => -Errno.EINVAL }), 'p:ev ^vfs_read', 'FAIL_REG_PROBE', Errno.EINVAL);
    expectLogged(EMPTY_EVENTS_FILE, kernel({ registerResult: () => -Errno.EPERM }), 'p:ev ^vfs_read', 'FAIL_REG_PROBE', Errno.EPERM);
  });
  it('R151: -ENOMEM and -EEXIST add no entry of their own', () => {
    expect(write(EMPTY_EVENTS_FILE, 'p:ev vfs_read\n', kernel({ registerResult: () => -Errno.ENOMEM }))).toMatchObject({
      errno: Errno.ENOMEM,
      logged: [],
      added: [],
    });
    expect(write(EMPTY_EVENTS_FILE, 'p:ev vfs_read\n', kernel({ registerResult: () => -Errno.EEXIST }))).toMatchObject({
      errno: Errno.EEXIST,
      logged: [],
    });
  });
  it('R134: the store reports which probes to register', () => {
    const seen: string[] = [];
    const env = kernel({ registerResult: (p) => (seen.push(p.event), 0) });
    const r = write(EMPTY_EVENTS_FILE, 'p:a vfs_read\np:b do_exit\n', env);
    expect(seen).toEqual(['a', 'b']);
    expect(r.added.map((p) => p.registered)).toEqual([true, true]);
  });
});

describe('§15.14 reading kprobe_events', () => {
  it('R136: one line per probe in creation order, canonical form', () => {
    const env = kernel();
    const s = setup(
      env,
      'p:myprobe vfs_read+0x10 a=%ax b=+8(%di):u32',
      'p do_exit',
      'p:grp/ev mymod:mod_func',
      'p:addr 0xffffffff81000000',
      'r:ret vfs_read $retval',
    );
    expect(readEventsFile(s)).toBe(
      [
        'p:kprobes/myprobe vfs_read+16 a=%ax b=+8(%di):u32',
        'p:kprobes/p_do_exit_0 do_exit',
        'p:grp/ev mymod:mod_func',
        'p:kprobes/addr 0xffffffff81000000',
        'r:kprobes/ret vfs_read arg1=$retval',
        '',
      ].join('\n'),
    );
  });
  it('R136: a registered kretprobe shows its defaulted maxactive', () => {
    const env = kernel({ defaultMaxactive: 20 });
    expect(readEventsFile(setup(env, 'r:EV vfs_read'))).toBe('r20:kprobes/EV vfs_read\n');
    expect(readEventsFile(setup(env, 'r5:EV vfs_read'))).toBe('r5:kprobes/EV vfs_read\n');
  });
  it('R117: %return reads back in r form', () => {
    expect(readEventsFile(setup(kernel(), 'p:ev vfs_read%return'))).toBe('r:kprobes/ev vfs_read\n');
  });
  it('R158-style bookkeeping: added/removed carry stable ids', () => {
    const env = kernel();
    const r1 = write(EMPTY_EVENTS_FILE, 'p:a vfs_read\n', env);
    const r2 = write(r1.state, '-:a\np:a vfs_read\n', env);
    expect(r2.removed.map((p) => p.id)).toEqual([1]);
    expect(r2.added.map((p) => p.id)).toEqual([2]);
  });
});
