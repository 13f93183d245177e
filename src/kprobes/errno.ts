import { Errno } from '../errno.ts';

// The errno values the kprobes API returns (negated at the call site), from the one table.
export const { EINVAL, ENOENT, EILSEQ, EOPNOTSUPP, ENOMEM } = Errno;
