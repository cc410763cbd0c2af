'use strict';
/**
 * Preloaded (`node -r`) into the ChatApp processes the bench starts; not part of the server. It
 * keeps the same event-loop delay histogram as the baseline (`monitorEventLoopDelay`, 10 ms
 * resolution) and adds up the garbage collector's pauses (PerformanceObserver 'gc'), and on
 * SIGUSR2 writes what it saw since the previous signal to BENCH_ELD_FILE
 * (`{"n","eld_p50_ms","eld_p99_ms","eld_max_ms","gc":{minor,major}}`, each gc kind as
 * `{"count","ms","max_ms"}`; replaced atomically) and starts a new window. The runner signals
 * before and after each step, as it calls the baseline's GET /stats.
 */
const { monitorEventLoopDelay, PerformanceObserver, constants } = require('node:perf_hooks');
const { renameSync, writeFileSync } = require('node:fs');

const file = process.env.BENCH_ELD_FILE;
if (file) {
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const fresh = () => ({ minor: { count: 0, ms: 0, max_ms: 0 }, major: { count: 0, ms: 0, max_ms: 0 } });
  let gc = fresh();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e.detail?.kind ?? e.kind) === constants.NODE_PERFORMANCE_GC_MINOR ? gc.minor : gc.major;
      kind.count++;
      kind.ms += e.duration;
      kind.max_ms = Math.max(kind.max_ms, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  let n = 0;
  process.on('SIGUSR2', () => {
    const body = JSON.stringify({
      n: ++n,
      eld_p50_ms: eld.percentile(50) / 1e6,
      eld_p99_ms: eld.percentile(99) / 1e6,
      eld_max_ms: eld.max / 1e6,
      gc,
    });
    eld.reset();
    gc = fresh();
    writeFileSync(`${file}.tmp`, body);
    renameSync(`${file}.tmp`, file);
  });
}
