// The probe table's bucket: hash_ptr(addr, KPROBE_HASH_BITS) as include/linux/hash.h computes it
// (spec R5: 64 buckets). Only `debugfs kprobes/list` order and the log show it.

const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;
const MASK_64 = (1n << 64n) - 1n;
export const KPROBE_HASH_BITS = 6;

export function kprobeBucket(addr: bigint): number {
  return Number(((addr * GOLDEN_RATIO_64) & MASK_64) >> BigInt(64 - KPROBE_HASH_BITS));
}
