// The `kprobesim` executable: the program is src/cli/program.ts; this file only binds it to the
// process (arguments, standard streams, exit status).
import { main } from './program.ts';

// A reader that goes away (`kprobesim trace LOG | head`) is not an error: stop quietly, as
// coreutils do on SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv);
