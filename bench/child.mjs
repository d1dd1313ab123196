// One driver, one workload, in a process of its own (a fresh heap, its own peak RSS).
//
//   node bench/child.mjs DRIVER WORKLOAD COUNT      (BENCH_DSN in the environment)
//
// Prints one line of JSON: { count, bytes, seconds, cpuSeconds, maxRss } or { skipped }.

const [driverName, workload, countText] = process.argv.slice(2);
const dsn = process.env.BENCH_DSN;
if (!driverName || !workload || !countText || !dsn) {
  process.stderr.write('usage: BENCH_DSN=... node bench/child.mjs DRIVER WORKLOAD COUNT\n');
  process.exit(2);
}
const count = Number(countText);

const driver = await import(`./drivers/${driverName}.mjs`);
const skipped = driver.skip?.[workload];
if (skipped !== undefined || driver.workloads[workload] === undefined) {
  process.stdout.write(`${JSON.stringify({ skipped: skipped ?? 'not implemented' })}\n`);
  process.exit(0);
}

let started = null;
let stopped = null;
let cpuAtStart = null;
let cpu = null;
const timer = {
  start() {
    cpuAtStart = process.cpuUsage();
    started = process.hrtime.bigint();
  },
  stop() {
    stopped = process.hrtime.bigint();
    cpu = process.cpuUsage(cpuAtStart);
  },
};

let extra;
try {
  extra = (await driver.workloads[workload]({ dsn, count, timer })) ?? {};
} catch (error) {
  // the report shows the end of stderr, where an uncaught error's own message would be lost
  // above its stack
  process.stderr.write(`${driverName} ${workload}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
if (started === null || stopped === null) throw new Error(`${driverName} ${workload}: the timer was not started and stopped`);

const line = {
  count,
  bytes: extra.bytes ?? 0,
  seconds: Number(stopped - started) / 1e9,
  // the client's own CPU time (all its threads) in the timed part: less at the mercy of a
  // busy machine than the wall clock
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  // kB, as getrusage reports it in floor.c
  maxRss: process.resourceUsage().maxRSS,
  note: driver.notes?.[workload],
  // mixed: { p50, p99, p999, n } of the fast statements, in ms
  latency: extra.latency,
};
process.stdout.write(`${JSON.stringify(line)}\n`);
// a driver that leaves a handle open must not hold the run up
process.exit(0);
