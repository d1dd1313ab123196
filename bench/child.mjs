// One driver, one workload, in a process of its own (a fresh heap, its own peak RSS).
//
//   node bench/child.mjs DRIVER WORKLOAD COUNT      (BENCH_DSN in the environment)
//
// Prints one line of JSON: { count, bytes, seconds, maxRss } or { skipped }.

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
const timer = {
  start() {
    started = process.hrtime.bigint();
  },
  stop() {
    stopped = process.hrtime.bigint();
  },
};

const extra = (await driver.workloads[workload]({ dsn, count, timer })) ?? {};
if (started === null || stopped === null) throw new Error(`${driverName} ${workload}: the timer was not started and stopped`);

const line = {
  count,
  bytes: extra.bytes ?? 0,
  seconds: Number(stopped - started) / 1e9,
  // kB, as getrusage reports it in floor.c
  maxRss: process.resourceUsage().maxRSS,
  note: driver.notes?.[workload],
};
process.stdout.write(`${JSON.stringify(line)}\n`);
// a driver that leaves a handle open must not hold the run up
process.exit(0);
