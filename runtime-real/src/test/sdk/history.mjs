// Concurrent clients of the official S2 TypeScript SDK against streams of an s2j server (or a
// cell of them), recording what each client started and observed as a JSON-lines event log, which
// ServerHistoryIT and CellRolesIT turn into s2-verification histories, one per stream
// (S2HistoryRecorder, S2Jsonl), and check for linearizability with the project's checker
// (S2StreamModel); optionally also live tailers (read sessions) whose every received record is
// logged for CellRolesIT to compare with the streams' final contents.
//
// Environment: S2J_ENDPOINTS (base URLs, comma-separated; or one in S2J_ENDPOINT), S2J_BASIN and
// S2J_STREAMS (existing streams, comma-separated; or one in S2J_STREAM), S2J_OUT (the event log to
// write), S2J_CLIENTS (concurrent clients per stream, default 4), S2J_SESSION_CLIENTS (how many of
// a stream's clients append through an append session, default 1), S2J_DURATION_MS (how long to
// run, default 3000; with S2J_STOP_ON_EOF=1 the clients also stop once stdin closes),
// S2J_MATCH_P (probability that an append carries match_seq_num, default 0.25), S2J_READS
// ("whole", the default: every read from seq num 0; "incremental": a client continues from the
// tail and hash of its own last read), S2J_TAILERS (live tailers per stream, default 0) and
// S2J_TAIL_OUT (their log), S2J_SEED (default 1). Every event carries its stream and the wall-clock
// time it was logged at ("at", ms since the epoch).
//
// Operations, one at a time per client (s2-verification's collector does the same):
//   append   1-3 records, sometimes with match_seq_num (the tail the client saw last) and/or
//            fencing_token (the token the client believes is current), sometimes ending with a
//            fence command setting a new token;
//   read     check-tail, then every record below that tail (unary reads, as bytes), reported as
//            the tail and the cumulative XXH3 stream hash of the bodies;
//   checkTail.
// Client i of the stream with index k goes through endpoint (i + k) mod |endpoints|; the first
// S2J_SESSION_CLIENTS clients of a stream append through an append session (s2s transport, one
// input in flight), the others with unary appends (fetch transport). Outcomes: a success; a
// definite failure (the SDK says no side effects, or a 4xx from the server other than 408);
// otherwise indefinite. A client that saw an indefinite append failure takes a new client id (the
// collector's rule), so the recorder can put that failure at the end of the history. Reads and
// check-tails always fail definitely.
//
// Tailer j of the stream with index k: a read session through endpoint j mod |endpoints|, s2s
// transport when j + k is even, else fetch (SSE), from seq num 0 following the tail; after an
// error it reopens from the seq num after the last record it received, as a user would. Its log
// (S2J_TAIL_OUT): "open" (from), "rec" (seq, body as base64), "error", and at the end "done" (the
// next seq num it waited for and whether it reached the stream's final tail).
import { writeFileSync } from "node:fs";
import { AppendInput, AppendRecord, S2, S2Error, SeqNumMismatchError } from "@s2-dev/streamstore";
import { xxh3 } from "@node-rs/xxhash";

const endpoints = (process.env.S2J_ENDPOINTS ?? process.env.S2J_ENDPOINT ?? "").split(",").filter((e) => e !== "");
const basinName = process.env.S2J_BASIN;
const streamNames = (process.env.S2J_STREAMS ?? process.env.S2J_STREAM ?? "").split(",").filter((e) => e !== "");
const out = process.env.S2J_OUT;
if (endpoints.length === 0 || !basinName || streamNames.length === 0 || !out) {
  throw new Error("set S2J_ENDPOINT(S), S2J_BASIN, S2J_STREAM(S) and S2J_OUT");
}
const clients = Number(process.env.S2J_CLIENTS ?? 4);
const sessionClients = Number(process.env.S2J_SESSION_CLIENTS ?? 1);
const durationMs = Number(process.env.S2J_DURATION_MS ?? 3000);
const matchP = Number(process.env.S2J_MATCH_P ?? 0.25);
const incrementalReads = (process.env.S2J_READS ?? "whole") === "incremental";
const tailersPerStream = Number(process.env.S2J_TAILERS ?? 0);
const tailOut = process.env.S2J_TAIL_OUT;
if (tailersPerStream > 0 && !tailOut) {
  throw new Error("set S2J_TAIL_OUT for the tailers' log");
}
let seed = BigInt(process.env.S2J_SEED ?? 1) & 0xffffffffn;

// A small seeded generator (mulberry32), so a run's choices can be replayed.
function random() {
  seed = (seed + 0x6d2b79f5n) & 0xffffffffn;
  let t = Number(seed);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// XXH3-64 exactly as hash4j's Hashing.xxh3_64() / xxh3_64(seed) (StreamHash): a body's hash with
// seed 0; the stream hash chains le64(body hash) seeded with the hash so far.
const bodyHash = (bytes) => xxh3.xxh64(Buffer.from(bytes), 0n);
function chain(streamHash, recordHash) {
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(recordHash);
  return xxh3.xxh64(le, streamHash);
}

// The vectors s2-verification's tests share (StreamHashTest): fail loudly if the package disagrees.
{
  const foo = bodyHash(Buffer.from("foo"));
  const h1 = chain(0n, foo);
  const h3 = chain(chain(h1, bodyHash(Buffer.from("bar"))), bodyHash(Buffer.from("baz")));
  if (foo !== 0xab6e5f64077e7d8an || h1 !== 0x4d2b003ee417c3a5n || h3 !== 0x732ee99abc5002ffn) {
    throw new Error(`xxh3 disagrees with hash4j: ${foo.toString(16)} ${h1.toString(16)} ${h3.toString(16)}`);
  }
}

const events = [];
const log = (e) => events.push(JSON.stringify({ ...e, at: Date.now() }));
const tailEvents = [];
const tailLog = (e) => tailEvents.push(JSON.stringify({ ...e, at: Date.now() }));

// No retries: a retried append could land twice under one operation (and a tailer reopens itself).
function s2(endpoint) {
  return new S2({
    accessToken: "ignored",
    endpoints: { account: endpoint, basin: endpoint },
    retry: { maxAttempts: 1 },
  });
}

function definite(e) {
  if (e instanceof S2Error) {
    if (typeof e.hasNoSideEffects === "function" && e.hasNoSideEffects()) {
      return true;
    }
    return e.origin === "server" && e.status >= 400 && e.status < 500 && e.status !== 408;
  }
  return false;
}

const describe = (e) => `${e?.constructor?.name}: ${e?.status ?? ""} ${e?.code ?? ""} ${e?.message ?? e}`.slice(0, 300);

let nextClientId = 0;
const deadline = Date.now() + durationMs;
let stopped = false; // set when stdin closes (S2J_STOP_ON_EOF=1)
const running = () => !stopped && Date.now() < deadline;
const stats = { ops: 0, ok: 0, definite: 0, indefinite: 0, tailed: 0, tailErrors: 0 };
// Per stream: its name and index, and the last token some client set (clients use it, sometimes stale).
const streams = streamNames.map((name, index) => ({ name, index, knownToken: null }));

async function runClient(st, index) {
  const streamName = st.name;
  let clientId = nextClientId++;
  const useSession = index < sessionClients;
  const client = s2(endpoints[(index + st.index) % endpoints.length]);
  const stream = client.basin(basinName).stream(streamName, { forceTransport: useSession ? "s2s" : "fetch" });
  const readCache = { tail: 0, hash: 0n };
  let session = null;
  let lastTail = 0;
  let myToken = null;
  let n = 0;
  while (running()) {
    const r = random();
    n++;
    stats.ops++;
    if (r < 0.6) {
      const count = 1 + Math.floor(random() * 3);
      const records = [];
      const hashes = [];
      for (let k = 0; k < count; k++) {
        const body = `${streamName}-c${index}-${clientId}-${n}-${k}`;
        records.push(AppendRecord.string({ body }));
        hashes.push(bodyHash(Buffer.from(body, "utf8")).toString());
      }
      let setToken = null;
      if (random() < 0.08) {
        setToken = `${streamName}-t${index}-${clientId}-${n}`;
        records.push(AppendRecord.fence(setToken));
        hashes.push(bodyHash(Buffer.from(setToken, "utf8")).toString());
      }
      const options = {};
      if (random() < matchP) {
        options.matchSeqNum = lastTail;
      }
      if (random() < 0.3) {
        options.fencingToken = random() < 0.8 ? (st.knownToken ?? "") : (myToken ?? "");
      }
      log({ t: "start", stream: streamName, client: clientId, op: "append", hashes, match: options.matchSeqNum ?? null,
        token: options.fencingToken ?? null, set: setToken });
      try {
        const input = AppendInput.create(records, options);
        let ack;
        if (useSession) {
          if (session === null) {
            session = await stream.appendSession();
          }
          ack = await (await session.submit(input)).ack();
        } else {
          ack = await stream.append(input);
        }
        log({ t: "ok", stream: streamName, client: clientId, tail: ack.end.seqNum });
        stats.ok++;
        lastTail = ack.end.seqNum;
        if (setToken !== null) {
          st.knownToken = setToken;
          myToken = setToken;
        }
      } catch (e) {
        const d = definite(e);
        log({ t: "fail", stream: streamName, client: clientId, definite: d, error: describe(e) });
        d ? stats.definite++ : stats.indefinite++;
        if (session !== null) {
          session.close().catch(() => {});
          session = null;
        }
        if (!d) {
          clientId = nextClientId++;
        }
        if (e instanceof SeqNumMismatchError && typeof e.expectedSeqNum === "number") {
          lastTail = e.expectedSeqNum; // the tail the server reported: the next match_seq_num
        }
        if (!(e instanceof S2Error && e.status === 412)) {
          await sleep(100); // the server is down or restarting: do not spin
        }
      }
    } else if (r < 0.8) {
      const tail = await wholeRead(stream, streamName, clientId, incrementalReads ? readCache : null);
      if (tail === null) {
        await sleep(50);
      } else {
        lastTail = tail;
      }
    } else {
      log({ t: "start", stream: streamName, client: clientId, op: "check_tail" });
      try {
        const tail = (await stream.checkTail()).tail.seqNum;
        log({ t: "ok", stream: streamName, client: clientId, tail });
        stats.ok++;
        lastTail = tail;
      } catch (e) {
        log({ t: "fail", stream: streamName, client: clientId, definite: true, error: describe(e) });
        stats.definite++;
        await sleep(50);
      }
    }
  }
  if (session !== null) {
    await session.close().catch(() => {});
  }
  await stream.close().catch(() => {});
}

// A whole-stream read: check-tail, then every record below that tail; logged as one Read. With a
// cache (S2J_READS=incremental) it continues from the tail and hash of the client's last read,
// which holds as long as the stream's prefix never changes (the tailers and the final whole read
// check that it does not).
async function wholeRead(stream, streamName, clientId, cache) {
  log({ t: "start", stream: streamName, client: clientId, op: "read" });
  try {
    const tail = (await stream.checkTail()).tail.seqNum;
    let hash = 0n;
    let next = 0;
    if (cache !== null && cache.tail <= tail) {
      hash = cache.hash;
      next = cache.tail;
    }
    while (next < tail) {
      const batch = await stream.read({ start: { from: { seqNum: next } }, stop: { limits: { count: Math.min(1000, tail - next) } } },
        { as: "bytes" });
      if (batch.records.length === 0) {
        throw new Error(`no records at ${next} below the tail ${tail}`);
      }
      for (const record of batch.records) {
        if (next >= tail) {
          break;
        }
        if (record.seqNum !== next) {
          throw new Error(`read ${record.seqNum} where ${next} was expected`);
        }
        hash = chain(hash, bodyHash(record.body));
        next++;
      }
    }
    log({ t: "ok", stream: streamName, client: clientId, tail, hash: hash.toString() });
    stats.ok++;
    if (cache !== null) {
      cache.tail = tail;
      cache.hash = hash;
    }
    return tail;
  } catch (e) {
    log({ t: "fail", stream: streamName, client: clientId, definite: true, error: describe(e) });
    stats.definite++;
    return null;
  }
}

// A live tailer (see the header): logs every record it receives; reopens after an error from the
// seq num after the last record it got. Stops when tailer.stop is set (its reader is cancelled).
async function runTailer(st, j) {
  const endpoint = endpoints[j % endpoints.length];
  const transport = (j + st.index) % 2 === 0 ? "s2s" : "fetch";
  const tailer = { name: `${st.name}-t${j}`, endpoint, transport, next: 0, stop: false, reader: null };
  st.tailers.push(tailer);
  const stream = s2(endpoint).basin(basinName).stream(st.name, { forceTransport: transport });
  const meta = { stream: st.name, tailer: tailer.name };
  tailLog({ t: "start", ...meta, endpoint, transport });
  while (!tailer.stop) {
    try {
      tailLog({ t: "open", ...meta, from: tailer.next });
      const session = await stream.readSession({ start: { from: { seqNum: tailer.next } } }, { as: "bytes" });
      const reader = session.getReader();
      tailer.reader = reader;
      if (tailer.stop) {
        await reader.cancel("stopped").catch(() => {});
        break;
      }
      while (true) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        tailLog({ t: "rec", ...meta, seq: value.seqNum, body: Buffer.from(value.body).toString("base64") });
        stats.tailed++;
        tailer.next = value.seqNum + 1;
      }
      tailer.reader = null;
      if (!tailer.stop) {
        tailLog({ t: "error", ...meta, next: tailer.next, error: "the session ended" });
        stats.tailErrors++;
      }
    } catch (e) {
      tailer.reader = null;
      if (!tailer.stop) {
        tailLog({ t: "error", ...meta, next: tailer.next, error: describe(e) });
        stats.tailErrors++;
        await sleep(200);
      }
    }
  }
  await stream.close().catch(() => {});
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.env.S2J_STOP_ON_EOF === "1") {
  process.stdin.on("end", () => {
    stopped = true;
  });
  process.stdin.resume();
}
const tailersDone = [];
for (const st of streams) {
  st.tailers = [];
  for (let j = 0; j < tailersPerStream; j++) {
    tailersDone.push(runTailer(st, j));
  }
}
await Promise.all(streams.flatMap((st) => [...Array(clients).keys()].map((i) => runClient(st, i))));
// A last whole-stream read of each stream once every client is done, by a client of its own:
// ServerHistoryIT compares its hash with one computed in Java (hash4j) from the records read over
// HTTP. Its tail is the stream's final tail, which the stream's tailers are then given 30 s to reach.
for (const st of streams) {
  const stream = s2(endpoints[0]).basin(basinName).stream(st.name, { forceTransport: "fetch" });
  let finalRead = null;
  for (let attempt = 0; attempt < 50 && finalRead === null; attempt++) {
    finalRead = await wholeRead(stream, st.name, nextClientId++, null);
    if (finalRead === null) {
      await sleep(200);
    }
  }
  st.finalTail = finalRead;
}
const caughtUpBy = Date.now() + 30_000;
for (const st of streams) {
  for (const tailer of st.tailers) {
    while (st.finalTail !== null && tailer.next < st.finalTail && Date.now() < caughtUpBy) {
      await sleep(50);
    }
    tailer.stop = true;
    tailLog({ t: "done", stream: st.name, tailer: tailer.name, next: tailer.next, finalTail: st.finalTail });
    await tailer.reader?.cancel("stopped").catch(() => {});
  }
}
await Promise.all(tailersDone);
writeFileSync(out, events.join("\n") + "\n");
if (tailOut) {
  writeFileSync(tailOut, tailEvents.join("\n") + "\n");
}
console.log(JSON.stringify({ events: events.length, tailEvents: tailEvents.length, ...stats }));
process.exit(0);
