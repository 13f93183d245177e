// Tab completion of the interactive shell (src/shell/complete.ts), over the simulated tree only:
// command names where a command starts, paths elsewhere; a directory gets a `/`, a sole file or
// command a space, as ash completes.

import { describe, expect, it } from 'vitest';
import { FakeBackend } from './fakes/fake-backend.ts';
import { ShellSession } from '../src/shell/session.ts';

const T = '/sys/kernel/tracing';
const sh = () => new ShellSession(new FakeBackend(), { cwd: T });

describe('tab completion', () => {
  it('completes command names (builtins, programs, kernel commands) at the start of a command', () => {
    const s = sh();
    expect(s.complete('gr')).toEqual([['grep '], 'gr']);
    expect(s.complete('e')).toEqual([['echo', 'exit'], 'e']);
    expect(s.complete('ti')).toEqual([['tick '], 'ti']);
    // After a pipe, `;` or `&&`: a new command.
    expect(s.complete('cat trace | hea')).toEqual([['head '], 'hea']);
    expect(s.complete('true && sle')).toEqual([['sleep '], 'sle']);
    expect(s.complete('nothing-like-it')).toEqual([[], 'nothing-like-it']);
  });

  it('completes paths of the simulated tree, relative to the current directory or absolute', () => {
    const s = sh();
    expect(s.complete('cat kprobe_')).toEqual([['kprobe_events', 'kprobe_profile'], 'kprobe_']);
    expect(s.complete('cat kprobe_e')).toEqual([['kprobe_events '], 'kprobe_e']);
    expect(s.complete('cd /sys/kernel/de')).toEqual([['/sys/kernel/debug/'], '/sys/kernel/de']);
    expect(s.complete('ls /')).toEqual([['/dev/', '/sys/'], '/']);
    expect(s.complete('echo 1 > options/stack')).toEqual([['options/stacktrace '], 'options/stack']);
    // A word with a slash in command position is a path.
    expect(s.complete('/dev/nu')).toEqual([['/dev/null '], '/dev/nu']);
  });

  it('lists nothing outside the simulated tree: the host’s /etc is not there', () => {
    const s = sh();
    expect(s.complete('cat /etc/pas')).toEqual([[], '/etc/pas']);
    expect(s.complete('cat /e')).toEqual([[], '/e']);
  });
});
