// Register names accepted by `%REG` fetch arguments: the arch's regs_query_register_offset() table
// (exact, case-sensitive match). x86-64: arch/x86/kernel/ptrace.c; arm64: arch/arm64/kernel/ptrace.c.

import type { Arch } from './types.ts';

const X86_64_REGS: readonly string[] = [
  'r15', 'r14', 'r13', 'r12', 'r11', 'r10', 'r9', 'r8',
  'bx', 'cx', 'dx', 'si', 'di', 'bp', 'ax',
  'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss',
];

const ARM64_REGS: readonly string[] = [
  ...Array.from({ length: 31 }, (_, i) => `x${i}`),
  'lr', // alias of x30
  'sp',
  'pc',
  'pstate',
];

export const REGISTER_NAMES: Readonly<Record<Arch, readonly string[]>> = {
  x86_64: X86_64_REGS,
  arm64: ARM64_REGS,
};

export function isRegisterName(arch: Arch, name: string): boolean {
  return REGISTER_NAMES[arch].includes(name);
}
