// Errno values of x86-64 (spec §0); kernel functions return them negated.
export const EINVAL = 22;
export const ENOENT = 2;
export const EILSEQ = 84;
export const EOPNOTSUPP = 95;
export const ENOMEM = 12;
