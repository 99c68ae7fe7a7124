// Bench section 8: a full garbage collection when the process receives SIGUSR2. Every gateway of
// the section is started with `--expose-gc --require` this file (so the throughput comparison stays
// like for like), and the memory phase signals the traced one in the middle of the first and of the
// last third, so each has a live-heap reading even when V8 runs no mark-compact of its own there:
// a gateway that promotes little may run one a minute. Its `--trace-gc` line says "testing".
'use strict';

process.on('SIGUSR2', () => {
  globalThis.gc();
});
