// Concurrent clients of the official S2 TypeScript SDK against one stream of an s2j server,
// recording what each client started and observed as a JSON-lines event log, which
// ServerHistoryIT turns into an s2-verification history (S2HistoryRecorder, S2Jsonl) and checks
// for linearizability with the project's checker (S2StreamModel).
//
// Environment: S2J_ENDPOINT (base URL), S2J_BASIN and S2J_STREAM (existing), S2J_OUT (the event
// log to write), S2J_CLIENTS (concurrent clients, default 4), S2J_DURATION_MS (how long to run,
// default 3000), S2J_SEED (default 1).
//
// Operations, one at a time per client (s2-verification's collector does the same):
//   append   1-3 records, sometimes with match_seq_num (the tail the client saw last) and/or
//            fencing_token (the token the client believes is current), sometimes ending with a
//            fence command setting a new token;
//   read     check-tail, then every record below that tail from 0 (unary reads, as bytes),
//            reported as the tail and the cumulative XXH3 stream hash of the bodies;
//   checkTail.
// Client 0 appends through an append session (s2s transport, one input in flight), the others
// with unary appends (fetch transport). Outcomes: a success; a definite failure (the SDK says no
// side effects, or a 4xx from the server other than 408); otherwise indefinite. A client that saw
// an indefinite append failure takes a new client id (the collector's rule), so the recorder can
// put that failure at the end of the history. Reads and check-tails always fail definitely.
import { writeFileSync } from "node:fs";
import { AppendInput, AppendRecord, S2, S2Error } from "@s2-dev/streamstore";
import { xxh3 } from "@node-rs/xxhash";

const endpoint = process.env.S2J_ENDPOINT;
const basinName = process.env.S2J_BASIN;
const streamName = process.env.S2J_STREAM;
const out = process.env.S2J_OUT;
if (!endpoint || !basinName || !streamName || !out) {
  throw new Error("set S2J_ENDPOINT, S2J_BASIN, S2J_STREAM and S2J_OUT");
}
const clients = Number(process.env.S2J_CLIENTS ?? 4);
const durationMs = Number(process.env.S2J_DURATION_MS ?? 3000);
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
const log = (e) => events.push(JSON.stringify(e));

// No retries: a retried append could land twice under one operation.
function s2() {
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
let knownToken = null; // the last token some client set; clients use it, sometimes stale
const deadline = Date.now() + durationMs;
const stats = { ops: 0, ok: 0, definite: 0, indefinite: 0 };

async function runClient(index) {
  let clientId = nextClientId++;
  const useSession = index === 0;
  const client = s2();
  const stream = client.basin(basinName).stream(streamName, { forceTransport: useSession ? "s2s" : "fetch" });
  let session = null;
  let lastTail = 0;
  let myToken = null;
  let n = 0;
  while (Date.now() < deadline) {
    const r = random();
    n++;
    stats.ops++;
    if (r < 0.6) {
      const count = 1 + Math.floor(random() * 3);
      const records = [];
      const hashes = [];
      for (let k = 0; k < count; k++) {
        const body = `c${index}-${clientId}-${n}-${k}`;
        records.push(AppendRecord.string({ body }));
        hashes.push(bodyHash(Buffer.from(body, "utf8")).toString());
      }
      let setToken = null;
      if (random() < 0.08) {
        setToken = `t${index}-${clientId}-${n}`;
        records.push(AppendRecord.fence(setToken));
        hashes.push(bodyHash(Buffer.from(setToken, "utf8")).toString());
      }
      const options = {};
      if (random() < 0.25) {
        options.matchSeqNum = lastTail;
      }
      if (random() < 0.3) {
        options.fencingToken = random() < 0.8 ? (knownToken ?? "") : (myToken ?? "");
      }
      log({ t: "start", client: clientId, op: "append", hashes, match: options.matchSeqNum ?? null,
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
        log({ t: "ok", client: clientId, tail: ack.end.seqNum });
        stats.ok++;
        lastTail = ack.end.seqNum;
        if (setToken !== null) {
          knownToken = setToken;
          myToken = setToken;
        }
      } catch (e) {
        const d = definite(e);
        log({ t: "fail", client: clientId, definite: d, error: describe(e) });
        d ? stats.definite++ : stats.indefinite++;
        if (session !== null) {
          session.close().catch(() => {});
          session = null;
        }
        if (!d) {
          clientId = nextClientId++;
        }
        if (!(e instanceof S2Error && e.status === 412)) {
          await sleep(100); // the server is down or restarting: do not spin
        }
      }
    } else if (r < 0.8) {
      const tail = await wholeRead(stream, clientId);
      if (tail === null) {
        await sleep(50);
      } else {
        lastTail = tail;
      }
    } else {
      log({ t: "start", client: clientId, op: "check_tail" });
      try {
        const tail = (await stream.checkTail()).tail.seqNum;
        log({ t: "ok", client: clientId, tail });
        stats.ok++;
        lastTail = tail;
      } catch (e) {
        log({ t: "fail", client: clientId, definite: true, error: describe(e) });
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

// A whole-stream read: check-tail, then every record below that tail; logged as one Read.
async function wholeRead(stream, clientId) {
  log({ t: "start", client: clientId, op: "read" });
  try {
    const tail = (await stream.checkTail()).tail.seqNum;
    let hash = 0n;
    let next = 0;
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
    log({ t: "ok", client: clientId, tail, hash: hash.toString() });
    stats.ok++;
    return tail;
  } catch (e) {
    log({ t: "fail", client: clientId, definite: true, error: describe(e) });
    stats.definite++;
    return null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

await Promise.all([...Array(clients).keys()].map(runClient));
// A last whole-stream read once every client is done, by a client of its own: ServerHistoryIT
// compares its hash with one computed in Java (hash4j) from the records read over HTTP.
{
  const stream = s2().basin(basinName).stream(streamName, { forceTransport: "fetch" });
  let finalRead = null;
  for (let attempt = 0; attempt < 50 && finalRead === null; attempt++) {
    finalRead = await wholeRead(stream, nextClientId++);
    if (finalRead === null) {
      await sleep(200);
    }
  }
}
writeFileSync(out, events.join("\n") + "\n");
console.log(JSON.stringify({ events: events.length, ...stats }));
