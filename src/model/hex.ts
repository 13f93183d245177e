import type { Hex } from './events.ts';

// Kernel addresses are 64-bit: a JS number would round them to multiples of 2048, so the model
// keeps bigint and the log keeps lower-case hex strings.

export function toHex(addr: bigint): Hex {
  return `0x${addr.toString(16)}` as Hex;
}

export function fromHex(hex: string): bigint {
  return BigInt(hex);
}
