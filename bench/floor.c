/*
 * The floor: the benchmark's workloads written in C directly on libpq. What a Node.js
 * driver built on libpq could reach if its own layer cost nothing; the drivers are
 * measured as a ratio to it.
 *
 *   floor WORKLOAD DSN COUNT
 *   floor version
 *
 * Prints one line of JSON: {"count":..,"bytes":..,"seconds":..,"cpuSeconds":..,"maxRss":..},
 * where seconds (wall clock) and cpuSeconds (this process's CPU time) cover the timed part
 * only and maxRss is the peak resident set in kB.
 * The data (tables, COPY text) is the same as the Node.js drivers use: see run.mjs.
 * run.mjs links it with the same libpq as the pqnode binary it measures (compileFloor()).
 */
/* ppoll() */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libpq-fe.h>

/*
 * Linked against libpq 17+ (the static libpq of pqnode's prebuilt binary) but compiled with
 * older headers: run.mjs defines LIBPQ_HAS_SEND_PIPELINE_SYNC itself, and this, for the
 * declaration those headers lack.
 */
#ifdef FLOOR_DECLARE_SEND_PIPELINE_SYNC
extern int PQsendPipelineSync(PGconn *conn);
#endif

#define INSERT_PAGE 5000
#define COPY_CHUNK 65536

/* user + system CPU time of this process so far */
static double cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
         (double)usage.ru_stime.tv_usec / 1e6;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The timed part of a run: wall clock and CPU time at its start and end. */
struct timed {
  double start, end, cpu_start, cpu_end;
};

static void clock_start(struct timed *timing) {
  timing->cpu_start = cpu_seconds();
  timing->start = now_seconds();
}

static void clock_stop(struct timed *timing) {
  timing->end = now_seconds();
  timing->cpu_end = cpu_seconds();
}

static void die(const char *what, PGconn *conn) {
  fprintf(stderr, "floor: %s: %s\n", what, conn ? PQerrorMessage(conn) : "");
  exit(1);
}

static PGconn *open_connection(const char *dsn) {
  PGconn *conn = PQconnectdb(dsn);
  if (PQstatus(conn) != CONNECTION_OK) die("connect", conn);
  return conn;
}

static void expect(PGresult *result, ExecStatusType status, PGconn *conn, const char *what) {
  if (PQresultStatus(result) != status) {
    fprintf(stderr, "floor: %s: %s", what, PQresultErrorMessage(result));
    (void)conn;
    exit(1);
  }
}

static void run_command(PGconn *conn, const char *sql) {
  PGresult *result = PQexec(conn, sql);
  expect(result, PGRES_COMMAND_OK, conn, sql);
  PQclear(result);
}

/*
 * `select $1::int` prepared once under this name: the statement the drivers that prepare
 * (pqnode, postgres.js) run by name, the server skipping parsing and planning, as a driver
 * on libpq at its best would.
 */
#define SELECT_ONE "select_one"

/*
 * Behind PgBouncer in transaction mode (pool-pgbouncer) a statement prepared on one server
 * connection is missing on the next: pipelined() then sends the text each time, unnamed.
 */
static int send_unnamed = 0;

static void prepare_select_one(PGconn *conn) {
  PGresult *result = PQprepare(conn, SELECT_ONE, "select $1::int", 0, NULL);
  expect(result, PGRES_COMMAND_OK, conn, "prepare");
  PQclear(result);
}

/* What a driver does with the value of select $1::int: turn it into a number. */
static long read_int_result(PGresult *result) {
  return strtol(PQgetvalue(result, 0, 0), NULL, 10);
}

static long select1(PGconn *conn, long count) {
  char param[24];
  const char *values[1] = {param};
  long sum = 0;
  for (long i = 0; i < count; i++) {
    snprintf(param, sizeof param, "%ld", i);
    PGresult *result = PQexecPrepared(conn, SELECT_ONE, 1, values, NULL, NULL, 0);
    expect(result, PGRES_TUPLES_OK, conn, "select1");
    sum += read_int_result(result);
    PQclear(result);
  }
  return sum;
}

/* Every connection in non-blocking pipeline mode, its socket in `fds`. */
static void enter_pipelines(PGconn **conns, int nconns, struct pollfd *fds) {
  for (int c = 0; c < nconns; c++) {
    if (PQsetnonblocking(conns[c], 1) != 0) die("setnonblocking", conns[c]);
    if (PQenterPipelineMode(conns[c]) != 1) die("enterPipelineMode", conns[c]);
    fds[c].fd = PQsocket(conns[c]);
  }
}

static void leave_pipelines(PGconn **conns, int nconns) {
  for (int c = 0; c < nconns; c++) {
    if (PQexitPipelineMode(conns[c]) != 1) die("exitPipelineMode", conns[c]);
    PQsetnonblocking(conns[c], 0);
  }
}

/* The end of one statement in the pipeline: its results come, then a PGRES_PIPELINE_SYNC. */
static void send_sync(PGconn *conn) {
#ifdef LIBPQ_HAS_SEND_PIPELINE_SYNC
  if (PQsendPipelineSync(conn) != 1) die("sendPipelineSync", conn);
#else
  if (PQpipelineSync(conn) != 1) die("pipelineSync", conn);
#endif
}

/* Sends what every connection has queued and waits until one can be read (or written on). */
static void flush_and_poll(PGconn **conns, int nconns, struct pollfd *fds) {
  for (int c = 0; c < nconns; c++) {
    int flushed = PQflush(conns[c]);
    if (flushed < 0) die("flush", conns[c]);
    fds[c].events = POLLIN | (flushed > 0 ? POLLOUT : 0);
    fds[c].revents = 0;
  }
  if (poll(fds, (nfds_t)nconns, -1) < 0 && errno != EINTR) die("poll", NULL);
}

/*
 * The prepared `select $1::int` COUNT times over CONNS connections in pipeline mode, at most
 * DEPTH in flight across all of them, each query its own sync (an implicit transaction, as
 * each driver's query is). Sends are batched and flushed once per turn of the loop.
 */
static long pipelined(PGconn **conns, int nconns, int depth, long count) {
  long sent = 0, done = 0, sum = 0;
  int inflight[nconns > 0 ? nconns : 1];
  struct pollfd fds[nconns > 0 ? nconns : 1];
  char param[24];
  const char *values[1] = {param};

  for (int c = 0; c < nconns; c++) inflight[c] = 0;
  enter_pipelines(conns, nconns, fds);

  while (done < count) {
    int total = 0;
    for (int c = 0; c < nconns; c++) total += inflight[c];
    while (total < depth && sent < count) {
      /* the connection with the fewest queries in flight takes the next one */
      int target = 0;
      for (int c = 1; c < nconns; c++)
        if (inflight[c] < inflight[target]) target = c;
      snprintf(param, sizeof param, "%ld", sent);
      int queued = send_unnamed ? PQsendQueryParams(conns[target], "select $1::int", 1, NULL, values, NULL, NULL, 0)
                                : PQsendQueryPrepared(conns[target], SELECT_ONE, 1, values, NULL, NULL, 0);
      if (queued != 1) die(send_unnamed ? "sendQueryParams" : "sendQueryPrepared", conns[target]);
      send_sync(conns[target]);
      inflight[target]++;
      total++;
      sent++;
    }
    flush_and_poll(conns, nconns, fds);

    for (int c = 0; c < nconns; c++) {
      if (!(fds[c].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      PGconn *conn = conns[c];
      if (PQconsumeInput(conn) != 1) die("consumeInput", conn);
      while (inflight[c] > 0 && !PQisBusy(conn)) {
        PGresult *result = PQgetResult(conn);
        if (result == NULL) continue; /* the end of one query's results */
        switch (PQresultStatus(result)) {
          case PGRES_TUPLES_OK:
            sum += read_int_result(result);
            break;
          case PGRES_PIPELINE_SYNC:
            inflight[c]--;
            done++;
            break;
          default:
            fprintf(stderr, "floor: pipelined: %s", PQresultErrorMessage(result));
            exit(1);
        }
        PQclear(result);
      }
    }
  }
  leave_pipelines(conns, nconns);
  return sum;
}

/*
 * mixed: COUNT statements over NCONNS connections in pipeline mode, DEPTH in flight, every
 * SLOW_EVERY-th (i % SLOW_EVERY == 0) `select pg_sleep(0.02)` and the others the prepared
 * `select $1::int`. Dispatched as pqnode's pool does (lib/pool.ts, #placeStatement()): a
 * fast statement goes to the connection with the fewest in flight among those with no slow
 * statement in flight, or else behind the slow statement expected to end first. A slow one
 * waits in a line (counted in flight) for a connection with no slow statement, and takes the
 * last such connection only when another's slow statement is expected to end within
 * ENDING_WINDOW; the wait for that moment is timed to the microsecond (ppoll), which a
 * Node.js timer is not. The latency of each fast statement (send to its sync's result) is
 * kept in `latencies` (ms); returns how many.
 */
#define MIXED_SLOW_EVERY 50
#define MAX_DEPTH 128
/* pg_sleep(0.02), as the pool learns it */
#define SLOW_SECONDS 0.020
/* twice the pool's default slowThreshold (2 ms) */
#define ENDING_WINDOW 0.004

struct in_flight {
  double started[MAX_DEPTH];
  int slow[MAX_DEPTH];
  int head, count, slow_count;
  /* when its slow statement (at most one) is expected to end */
  double slow_ends;
};

/* The connection expected to be free of slow statements first (-1: none runs one); `in` its time left. */
static int ending_first(struct in_flight *flights, int nconns, double now, double *in) {
  int target = -1;
  for (int c = 0; c < nconns; c++) {
    if (flights[c].slow_count != 1 || now - flights[c].slow_ends > ENDING_WINDOW) continue;
    if (target < 0 || flights[c].slow_ends < flights[target].slow_ends) target = c;
  }
  if (target >= 0) *in = flights[target].slow_ends - now;
  return target;
}

/* Where a statement goes now; -1: a slow one waits in the line. */
static int pick_connection(struct in_flight *flights, int nconns, int slow, double now) {
  int free = -1, slow_free = 0;
  for (int c = 0; c < nconns; c++) {
    if (flights[c].slow_count > 0) continue;
    slow_free++;
    if (free < 0 || flights[c].count < flights[free].count) free = c;
  }
  double in = 0;
  int ending = ending_first(flights, nconns, now, &in);
  if (slow) {
    if (slow_free >= 2 || (slow_free == 1 && ending >= 0 && in <= ENDING_WINDOW)) return free;
    return -1;
  }
  if (free >= 0) return free;
  if (ending >= 0) return ending;
  int target = 0;
  for (int c = 1; c < nconns; c++)
    if (flights[c].slow_count < flights[target].slow_count) target = c;
  return target;
}

static void send_statement(PGconn *conn, struct in_flight *flight, int slow, long i) {
  char param[24];
  const char *values[1] = {param};
  int sent_ok;
  if (slow) {
    sent_ok = PQsendQueryParams(conn, "select pg_sleep(0.02)", 0, NULL, NULL, NULL, NULL, 0);
  } else {
    snprintf(param, sizeof param, "%ld", i);
    sent_ok = PQsendQueryPrepared(conn, SELECT_ONE, 1, values, NULL, NULL, 0);
  }
  if (sent_ok != 1) die("send", conn);
  send_sync(conn);
  int slot = (flight->head + flight->count) % MAX_DEPTH;
  double now = now_seconds();
  flight->started[slot] = now;
  flight->slow[slot] = slow;
  flight->count++;
  if (slow && flight->slow_count++ == 0) flight->slow_ends = now + SLOW_SECONDS;
}

static long mixed(PGconn **conns, int nconns, int depth, long count, double *latencies) {
  long sent = 0, done = 0, recorded = 0, waiting_slow = 0;
  struct in_flight flights[nconns];
  struct pollfd fds[nconns];

  for (int c = 0; c < nconns; c++) flights[c].head = flights[c].count = flights[c].slow_count = 0;
  enter_pipelines(conns, nconns, fds);

  while (done < count) {
    /* the slow statements in line first, in order */
    while (waiting_slow > 0) {
      int target = pick_connection(flights, nconns, 1, now_seconds());
      if (target < 0) break;
      send_statement(conns[target], &flights[target], 1, 0);
      waiting_slow--;
    }
    while (sent - done < depth && sent < count) {
      int slow = sent % MIXED_SLOW_EVERY == 0;
      int target = slow && waiting_slow > 0 ? -1 : pick_connection(flights, nconns, slow, now_seconds());
      if (target < 0) {
        waiting_slow++;
      } else {
        send_statement(conns[target], &flights[target], slow, sent);
      }
      sent++;
    }
    /*
     * with slow statements in line and one connection left free of them, wake when the first
     * expected end comes within the window (with none left, a statement's end wakes it)
     */
    double timeout = -1;
    int slow_free = 0;
    for (int c = 0; c < nconns; c++) slow_free += flights[c].slow_count == 0;
    if (waiting_slow > 0 && slow_free == 1) {
      double in = 0;
      if (ending_first(flights, nconns, now_seconds(), &in) >= 0) timeout = in > ENDING_WINDOW ? in - ENDING_WINDOW : 0;
    }
    for (int c = 0; c < nconns; c++) {
      int flushed = PQflush(conns[c]);
      if (flushed < 0) die("flush", conns[c]);
      fds[c].events = POLLIN | (flushed > 0 ? POLLOUT : 0);
      fds[c].revents = 0;
    }
    struct timespec wait = {(time_t)timeout, (long)((timeout - (double)(time_t)timeout) * 1e9)};
    if (ppoll(fds, (nfds_t)nconns, timeout < 0 ? NULL : &wait, NULL) < 0 && errno != EINTR) die("ppoll", NULL);

    for (int c = 0; c < nconns; c++) {
      if (!(fds[c].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      PGconn *conn = conns[c];
      struct in_flight *flight = &flights[c];
      if (PQconsumeInput(conn) != 1) die("consumeInput", conn);
      while (flight->count > 0 && !PQisBusy(conn)) {
        PGresult *result = PQgetResult(conn);
        if (result == NULL) continue;
        switch (PQresultStatus(result)) {
          case PGRES_TUPLES_OK:
            if (!flight->slow[flight->head]) (void)read_int_result(result);
            break;
          case PGRES_PIPELINE_SYNC:
            if (flight->slow[flight->head]) {
              flight->slow_count--;
            } else if (latencies != NULL) {
              latencies[recorded++] = (now_seconds() - flight->started[flight->head]) * 1e3;
            }
            flight->head = (flight->head + 1) % MAX_DEPTH;
            flight->count--;
            done++;
            break;
          default:
            fprintf(stderr, "floor: mixed: %s", PQresultErrorMessage(result));
            exit(1);
        }
        PQclear(result);
      }
    }
  }
  leave_pipelines(conns, nconns);
  return recorded;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* nearest rank, as workloads.mjs's percentiles() */
static double percentile(const double *sorted, long n, double q) {
  long rank = (long)ceil(q * (double)n) - 1;
  if (rank < 0) rank = 0;
  if (rank >= n) rank = n - 1;
  return sorted[rank];
}

/* Every cell read and the numbers among them parsed: what a driver does at the least. */
static long wide(PGconn *conn, long count) {
  PGresult *result = PQexecParams(conn, "select * from bench_wide", 0, NULL, NULL, NULL, NULL, 0);
  expect(result, PGRES_TUPLES_OK, conn, "wide");
  int rows = PQntuples(result);
  int columns = PQnfields(result);
  long checksum = 0;
  double fsum = 0;
  for (int r = 0; r < rows; r++) {
    checksum += strtol(PQgetvalue(result, r, 0), NULL, 10);
    checksum += strtoll(PQgetvalue(result, r, 1), NULL, 10);
    checksum += PQgetlength(result, r, 2);
    fsum += strtod(PQgetvalue(result, r, 3), NULL);
    checksum += PQgetvalue(result, r, 4)[0] == 't';
    for (int c = 5; c < columns; c++) {
      if (!PQgetisnull(result, r, c)) checksum += PQgetlength(result, r, c);
    }
  }
  PQclear(result);
  if (rows != count) {
    fprintf(stderr, "floor: wide: %d rows, expected %ld\n", rows, count);
    exit(1);
  }
  return checksum + (long)fsum;
}

/* Pages of INSERT_PAGE rows, each four text arrays of the same data the drivers send. */
static long insert(PGconn *conn, long count) {
  size_t cap = (size_t)INSERT_PAGE * 48 + 16;
  char *ids = malloc(cap), *names = malloc(cap), *scores = malloc(cap), *flags = malloc(cap);
  const char *sql =
      "insert into bench_insert (id, name, score, flag) "
      "select * from unnest($1::int4[], $2::text[], $3::float8[], $4::bool[])";
  long inserted = 0;
  for (long start = 0; start < count; start += INSERT_PAGE) {
    long end = start + INSERT_PAGE < count ? start + INSERT_PAGE : count;
    size_t a = 0, b = 0, c = 0, d = 0;
    ids[a++] = names[b++] = scores[c++] = flags[d++] = '{';
    for (long i = start; i < end; i++) {
      if (i > start) ids[a++] = names[b++] = scores[c++] = flags[d++] = ',';
      a += (size_t)sprintf(ids + a, "%ld", i);
      b += (size_t)sprintf(names + b, "\"name %ld\"", i);
      c += (size_t)sprintf(scores + c, "%ld.5", i);
      flags[d++] = (i & 1) ? 't' : 'f';
    }
    ids[a++] = names[b++] = scores[c++] = flags[d++] = '}';
    ids[a] = names[b] = scores[c] = flags[d] = '\0';
    const char *values[4] = {ids, names, scores, flags};
    PGresult *result = PQexecParams(conn, sql, 4, NULL, values, NULL, NULL, 0);
    expect(result, PGRES_COMMAND_OK, conn, "insert");
    inserted += strtol(PQcmdTuples(result), NULL, 10);
    PQclear(result);
  }
  free(ids);
  free(names);
  free(scores);
  free(flags);
  if (inserted != count) {
    fprintf(stderr, "floor: insert: %ld rows, expected %ld\n", inserted, count);
    exit(1);
  }
  return inserted;
}

/* The COPY text of rows [0, count): made before the clock starts, as in the drivers. */
static char *copy_text(long count, size_t *length) {
  size_t cap = (size_t)count * 40 + 1;
  char *text = malloc(cap);
  size_t used = 0;
  for (long i = 0; i < count; i++) used += (size_t)sprintf(text + used, "%ld\tname %ld\t%ld.25\n", i, i, i);
  *length = used;
  return text;
}

static size_t copy_in(PGconn *conn, const char *text, size_t length) {
  PGresult *result = PQexec(conn, "copy bench_copy_in (id, name, score) from stdin");
  expect(result, PGRES_COPY_IN, conn, "copy in");
  PQclear(result);
  for (size_t offset = 0; offset < length; offset += COPY_CHUNK) {
    size_t size = length - offset < COPY_CHUNK ? length - offset : COPY_CHUNK;
    if (PQputCopyData(conn, text + offset, (int)size) != 1) die("putCopyData", conn);
  }
  if (PQputCopyEnd(conn, NULL) != 1) die("putCopyEnd", conn);
  result = PQgetResult(conn);
  expect(result, PGRES_COMMAND_OK, conn, "copy in end");
  PQclear(result);
  while ((result = PQgetResult(conn)) != NULL) PQclear(result);
  return length;
}

static size_t copy_out(PGconn *conn) {
  PGresult *result = PQexec(conn, "copy bench_copy_out to stdout");
  expect(result, PGRES_COPY_OUT, conn, "copy out");
  PQclear(result);
  size_t bytes = 0;
  char *buffer;
  int size;
  while ((size = PQgetCopyData(conn, &buffer, 0)) > 0) {
    bytes += (size_t)size;
    PQfreemem(buffer);
  }
  if (size == -2) die("getCopyData", conn);
  result = PQgetResult(conn);
  expect(result, PGRES_COMMAND_OK, conn, "copy out end");
  PQclear(result);
  while ((result = PQgetResult(conn)) != NULL) PQclear(result);
  return bytes;
}

static void connect_many(const char *dsn, long count) {
  for (long i = 0; i < count; i++) PQfinish(open_connection(dsn));
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "version") == 0) {
    printf("{\"libpqVersion\":%d}\n", PQlibVersion());
    return 0;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: floor WORKLOAD DSN COUNT\n");
    return 2;
  }
  const char *workload = argv[1];
  const char *dsn = argv[2];
  long count = strtol(argv[3], NULL, 10);
  size_t bytes = 0;
  long check = 0;
  struct timed timing = {0, 0, 0, 0};
  double *latencies = NULL; /* mixed: the fast statements' latencies, ms */
  long recorded = 0;

  if (strcmp(workload, "connect") == 0) {
    connect_many(dsn, count / 20 + 1);
    clock_start(&timing);
    connect_many(dsn, count);
    clock_stop(&timing);
  } else if (strcmp(workload, "pool") == 0 || strcmp(workload, "pool-pgbouncer") == 0) {
    PGconn *conns[4];
    send_unnamed = strcmp(workload, "pool-pgbouncer") == 0;
    for (int c = 0; c < 4; c++) {
      conns[c] = open_connection(dsn);
      if (!send_unnamed) prepare_select_one(conns[c]);
    }
    pipelined(conns, 4, 50, count / 20 + 1);
    clock_start(&timing);
    check = pipelined(conns, 4, 50, count);
    clock_stop(&timing);
    for (int c = 0; c < 4; c++) PQfinish(conns[c]);
  } else if (strcmp(workload, "mixed") == 0) {
    PGconn *conns[4];
    for (int c = 0; c < 4; c++) {
      conns[c] = open_connection(dsn);
      prepare_select_one(conns[c]);
    }
    mixed(conns, 4, 50, count / 20 + 1, NULL);
    latencies = malloc(sizeof(double) * (size_t)count);
    clock_start(&timing);
    recorded = mixed(conns, 4, 50, count, latencies);
    clock_stop(&timing);
    qsort(latencies, (size_t)recorded, sizeof(double), compare_doubles);
    for (int c = 0; c < 4; c++) PQfinish(conns[c]);
  } else {
    PGconn *conn = open_connection(dsn);
    if (strcmp(workload, "select1") == 0) {
      prepare_select_one(conn);
      select1(conn, count / 20 + 1);
      clock_start(&timing);
      check = select1(conn, count);
      clock_stop(&timing);
    } else if (strcmp(workload, "concurrent") == 0) {
      prepare_select_one(conn);
      pipelined(&conn, 1, 100, count / 20 + 1);
      clock_start(&timing);
      check = pipelined(&conn, 1, 100, count);
      clock_stop(&timing);
    } else if (strcmp(workload, "wide") == 0) {
      clock_start(&timing);
      check = wide(conn, count);
      clock_stop(&timing);
    } else if (strcmp(workload, "insert") == 0) {
      run_command(conn, "truncate bench_insert");
      clock_start(&timing);
      check = insert(conn, count);
      clock_stop(&timing);
    } else if (strcmp(workload, "copy-in") == 0) {
      size_t length;
      char *text = copy_text(count, &length);
      run_command(conn, "truncate bench_copy_in");
      clock_start(&timing);
      bytes = copy_in(conn, text, length);
      clock_stop(&timing);
      free(text);
    } else if (strcmp(workload, "copy-out") == 0) {
      clock_start(&timing);
      bytes = copy_out(conn);
      clock_stop(&timing);
    } else {
      fprintf(stderr, "floor: unknown workload %s\n", workload);
      return 2;
    }
    PQfinish(conn);
  }

  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  printf("{\"count\":%ld,\"bytes\":%zu,\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"maxRss\":%ld,\"check\":%ld", count,
         bytes, timing.end - timing.start, timing.cpu_end - timing.cpu_start, usage.ru_maxrss, check);
  if (latencies != NULL && recorded > 0) {
    printf(",\"latency\":{\"p50\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"n\":%ld}", percentile(latencies, recorded, 0.5),
           percentile(latencies, recorded, 0.99), percentile(latencies, recorded, 0.999), recorded);
  }
  printf("}\n");
  free(latencies);
  return 0;
}
