import { describe, expect, it } from 'vitest';
import type { KernelVersion } from '../src/kernel/index.ts';
import { SimBackend } from '../src/session/sim-backend.ts';
import { ShellSession } from '../src/shell/session.ts';

// Issue 9 §3: `p vfs_read $arg*` on a kernel without BTF (spec R129; kernel/trace/trace_probe.c).
//
// v6.17: argv_has_var_arg() notes the `$arg*` token (log index = that argument), then
// traceprobe_expand_meta_args() finds no BTF (query_btf_context() < 0) and logs NOSUP_BTFARG,
// "BTF is not available or not supported", at offset 0 of that argument, the caret under its `$`.
// It then returns `(const char **)params`, which is NULL there, not an ERR_PTR: the caller goes
// on with the original arguments, and parse_probe_vars() fails `$arg*` again with BAD_VAR at the
// same column. So error_log holds both, the BTF error first; the write fails with -EINVAL.
//
// Older releases have no `$arg*` at all (the screening and NOSUP_BTFARG came in v6.5), and v4.14
// not even `$argN` (v4.20): there the token is just an unknown $-variable, BAD_VAR alone.

function errorLog(kernel: KernelVersion, line: string): { log: string; stderr: string } {
  const sh = new ShellSession(new SimBackend({ cpus: 1, seed: 1, kernel }), { cwd: '/sys/kernel/tracing' });
  const w = sh.runScript(`echo '${line}' > kprobe_events`);
  return { log: sh.runScript('cat error_log').stdout, stderr: w.stderr };
}

/** An error_log entry's message and caret column within the command. */
function entries(log: string): { msg: string; col: number }[] {
  const lines = log.split('\n');
  const out: { msg: string; col: number }[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    out.push({ msg: lines[i]!.replace(/^\[[ .\d]+\] trace_kprobe: error: /, ''), col: lines[i + 2]!.indexOf('^') - '  Command: '.length });
  }
  return out;
}

const AT = 'p vfs_read '.length;

describe('$arg* without BTF follows the release (R129)', () => {
  it('v6.17: NOSUP_BTFARG at the $arg* column first, then BAD_VAR there (the NULL return goes on parsing)', () => {
    const { log, stderr } = errorLog('6.17', 'p vfs_read $arg*');
    expect(stderr).toBe('sh: write error: Invalid argument\n');
    expect(entries(log)).toEqual([
      { msg: 'BTF is not available or not supported', col: AT },
      { msg: 'Invalid $-valiable specified', col: AT },
    ]);
  });

  it('v5.10 has no $arg* screening (v6.5): the token is an unknown $-variable, BAD_VAR alone', () => {
    expect(entries(errorLog('5.10', 'p vfs_read $arg*').log)).toEqual([{ msg: 'Invalid $-valiable specified', col: AT }]);
  });

  it('$argN exists since v4.20: fine on v5.10, BAD_VAR on v4.14', () => {
    expect(errorLog('5.10', 'p vfs_read $arg1')).toEqual({ log: '', stderr: '' });
    expect(entries(errorLog('4.14', 'p vfs_read $arg1').log)).toEqual([{ msg: 'Invalid $-valiable specified', col: AT }]);
  });
});
