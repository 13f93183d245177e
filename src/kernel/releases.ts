// The kernel releases the model can follow, and what changed between them that the model needs.

/** The kernel releases the model can follow (spec: v6.17 is the reference; older ones for the seeds). */
export const KERNEL_VERSIONS = ['4.14', '5.10', '6.17'] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];
export const DEFAULT_KERNEL: KernelVersion = '6.17';

/**
 * Functions the modelled releases know under different names: old name → new name. A Map, not
 * an object: it is looked up with names users type, and "constructor" is no rename.
 */
export const RENAMED: ReadonlyMap<string, string> = new Map([
  ['do_fork', '_do_fork'], // v4.2 (the seeds' kretprobe advice still says do_fork)
  ['_do_fork', 'kernel_clone'], // v5.10
  ['printk', '_printk'], // v5.15 (printk became a macro)
  ['do_page_fault', 'exc_page_fault'], // v5.8 (x86)
  ['int3', 'asm_exc_int3'], // v5.8 (x86)
]);

/** Whether release `v` is `min` or later ("5.10" ≥ "5.8"). */
export const atLeast = (v: KernelVersion, min: string): boolean => {
  const [a, b] = v.split('.').map(Number) as [number, number];
  const [c, d] = min.split('.').map(Number) as [number, number];
  return a > c || (a === c && b >= d);
};
