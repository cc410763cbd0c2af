'use strict';
/**
 * Preloaded (`node -r`) into the ChatApp processes the bench starts; not part of the server. It
 * keeps the same event-loop delay histogram as the baseline (`monitorEventLoopDelay`, 10 ms
 * resolution), and on SIGUSR2 writes what it saw since the previous signal to BENCH_ELD_FILE
 * (`{"n","eld_p50_ms","eld_p99_ms","eld_max_ms"}`, replaced atomically) and starts a new window.
 * The runner signals before and after each step, as it calls the baseline's GET /stats.
 */
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { renameSync, writeFileSync } = require('node:fs');

const file = process.env.BENCH_ELD_FILE;
if (file) {
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  let n = 0;
  process.on('SIGUSR2', () => {
    const body = JSON.stringify({
      n: ++n,
      eld_p50_ms: eld.percentile(50) / 1e6,
      eld_p99_ms: eld.percentile(99) / 1e6,
      eld_max_ms: eld.max / 1e6,
    });
    eld.reset();
    writeFileSync(`${file}.tmp`, body);
    renameSync(`${file}.tmp`, file);
  });
}
