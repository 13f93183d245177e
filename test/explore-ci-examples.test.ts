import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { parseShard } from '../src/cli/explore-options.ts';

// examples/ci/ (issue 12, "Scale"): a GitHub Actions matrix and a Kubernetes Indexed Job that
// split one exploration into N shards and merge their reports. What makes them right: the shards
// are exactly 0 … N−1 of the same N (a missing one loses runs, a repeated one counts runs twice),
// each writes its own report, and the merge step names every one of them (merge then checks they
// are the shards of one exploration). Each command is read the way the runner will expand it:
// the matrix value, or the index Kubernetes gives pod I, substituted for its placeholder.

type Yaml = Record<string, any>;

function words(command: string): string[] {
  return command.trim().split(/\s+/);
}

function flag(args: readonly string[], name: string): string {
  const i = args.indexOf(name);
  expect(i, `${name} in ${args.join(' ')}`).toBeGreaterThanOrEqual(0);
  return args[i + 1]!;
}

/** The report each shard writes, after checking that shard `i` runs `--shard i/N`. */
function shardReports(template: string, placeholder: string, indices: readonly number[]): string[] {
  return indices.map((i) => {
    const args = words(template.replaceAll(placeholder, String(i)));
    expect(args.slice(0, 3)).toEqual(['npx', 'kprobesim', 'explore']);
    expect(parseShard(flag(args, '--shard'))).toEqual({ index: i, count: indices.length });
    return flag(args, '--report');
  });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('examples/ci/github-actions.yml', () => {
  const wf = parse(readFileSync('examples/ci/github-actions.yml', 'utf8')) as Yaml;

  it('runs shards 0 … N−1 of one N, one per matrix entry, each with its own report, and merges every report after all of them', () => {
    const shards: number[] = wf.jobs.explore.strategy.matrix.shard;
    expect([...shards].sort((a, b) => a - b)).toEqual(range(shards.length));
    expect(wf.jobs.explore.strategy['fail-fast']).toBe(false);
    const run = (wf.jobs.explore.steps as Yaml[]).find((s) => typeof s.run === 'string' && s.run.includes('kprobesim explore '))!.run as string;
    const reports = shardReports(run.split('||')[0]!, '${{ matrix.shard }}', shards);
    expect(new Set(reports).size).toBe(shards.length);
    // Each shard's report leaves its runner as an artifact of its own …
    const upload = (wf.jobs.explore.steps as Yaml[]).find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    for (const [k, i] of shards.entries()) expect(upload.with.path.replaceAll('${{ matrix.shard }}', String(i))).toContain(reports[k]);
    // … and the merge job, which waits for every shard, reads all of them and nothing else.
    expect(wf.jobs.merge.needs).toBe('explore');
    const merge = (wf.jobs.merge.steps as Yaml[]).find((s) => typeof s.run === 'string' && s.run.includes('explore merge'))!.run as string;
    const files = words(merge.split('>')[0]!).slice(4);
    expect(words(merge).slice(0, 4)).toEqual(['npx', 'kprobesim', 'explore', 'merge']);
    expect([...files].sort()).toEqual([...reports].sort());
  });
});

describe('examples/ci/k8s-indexed-job.yaml', () => {
  const docs = parseAllDocuments(readFileSync('examples/ci/k8s-indexed-job.yaml', 'utf8')).map((d) => d.toJS() as Yaml);
  const byName = (name: string) => docs.find((d) => d.metadata.name === name)!;

  it('is an Indexed Job of N pods running shards 0 … N−1 of N, and a merge Job reading every report from the same volume', () => {
    const job = byName('kprobesim-explore');
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    const n: number = job.spec.completions;
    // Kubernetes numbers the pods of an Indexed Job 0 … completions−1 in JOB_COMPLETION_INDEX.
    const container = job.spec.template.spec.containers[0];
    expect(container.command.slice(0, 2)).toEqual(['sh', '-c']);
    const command = (container.command[2] as string).split('||')[0]!.replace('npx --yes', 'npx');
    const reports = shardReports(command, '${JOB_COMPLETION_INDEX}', range(n));
    expect(new Set(reports).size).toBe(n);

    const merge = byName('kprobesim-explore-merge');
    const args: string[] = merge.spec.template.spec.containers[0].command.filter((w: string) => w !== '--yes');
    expect(args.slice(0, 4)).toEqual(['npx', 'kprobesim', 'explore', 'merge']);
    expect([...args.slice(4)].sort()).toEqual([...reports].sort());
    // Both mount the same claim at the directory the reports are named in.
    const claim = (j: Yaml) => j.spec.template.spec.volumes[0].persistentVolumeClaim.claimName;
    const mount = (j: Yaml) => j.spec.template.spec.containers[0].volumeMounts[0].mountPath;
    expect(claim(merge)).toBe(claim(job));
    for (const r of reports) {
      expect(r.startsWith(`${mount(job)}/`)).toBe(true);
      expect(r.startsWith(`${mount(merge)}/`)).toBe(true);
    }
    const pvc = docs.find((d) => d.kind === 'PersistentVolumeClaim')!;
    expect(pvc.metadata.name).toBe(claim(job));
    expect(pvc.spec.accessModes).toContain('ReadWriteMany');
    // The documented order: shards (with their volume) first, the merge on its own afterwards.
    expect(docs.filter((d) => d.metadata.labels?.stage === 'shards').map((d) => d.metadata.name).sort()).toEqual(['kprobesim-explore', 'kprobesim-reports']);
    expect(merge.metadata.labels.stage).toBe('merge');
  });
});
