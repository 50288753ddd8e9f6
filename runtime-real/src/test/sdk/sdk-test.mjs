// Drives an s2j server with the official S2 TypeScript SDK (@s2-dev/streamstore), configured as
// for s2-lite (explicit endpoints, so the basin goes in the s2-basin header). Run by
// SdkCompatibilityTest with S2J_ENDPOINT=http://127.0.0.1:<port>; standalone:
//   S2J_ENDPOINT=http://127.0.0.1:8080 node --test sdk-test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AppendInput,
  AppendRecord,
  FencingTokenMismatchError,
  RangeNotSatisfiableError,
  S2,
  S2Error,
  SeqNumMismatchError,
} from "@s2-dev/streamstore";

const endpoint = process.env.S2J_ENDPOINT;
if (!endpoint) {
  throw new Error("set S2J_ENDPOINT to the server's base URL");
}

function client(extra = {}) {
  return new S2({
    accessToken: "ignored",
    endpoints: { account: endpoint, basin: endpoint },
    retry: { maxAttempts: 1 },
    ...extra,
  });
}

const run = `${process.pid}-${Date.now() % 1_000_000}`;
let counter = 0;
const freshBasin = () => `sdk-${run}-${counter++}`;

async function basinWithStream(s2, stream = "s", config = undefined) {
  const name = freshBasin();
  await s2.basins.create({ basin: name, config });
  const basin = s2.basin(name);
  await basin.streams.create({ stream });
  return basin;
}

const bodies = (records) => records.map((r) => r.body);

test("basins: create, list, get config, ensure, reconfigure, delete", async () => {
  const s2 = client();
  const name = freshBasin();
  const info = await s2.basins.create({ basin: name, config: { createStreamOnAppend: true } });
  assert.equal(info.name, name);
  const listed = await s2.basins.list({ prefix: name });
  assert.deepEqual(listed.basins.map((b) => b.name), [name]);
  const config = await s2.basins.getConfig({ basin: name });
  assert.equal(config.createStreamOnAppend, true);
  const same = await s2.basins.ensure({ basin: name, config: { createStreamOnAppend: true } });
  assert.equal(same.result, "noop");
  const changed = await s2.basins.ensure({ basin: name, config: { createStreamOnRead: true } });
  assert.equal(changed.result, "updated");
  const created = await s2.basins.ensure({ basin: freshBasin() });
  assert.equal(created.result, "created");
  const patched = await s2.basins.reconfigure({ basin: name, defaultStreamConfig: { storageClass: "standard" } });
  assert.equal(patched.defaultStreamConfig?.storageClass, "standard");
  await s2.basins.delete({ basin: name });
  await assert.rejects(s2.basins.getConfig({ basin: freshBasin() }), (e) => e instanceof S2Error && e.status === 404);
});

test("streams: create, list, get config, ensure, reconfigure, delete", async () => {
  const s2 = client();
  const name = freshBasin();
  await s2.basins.create({ basin: name });
  const basin = s2.basin(name);
  await basin.streams.create({ stream: "a/b", config: { storageClass: "standard" } });
  const listed = await basin.streams.list();
  assert.deepEqual(listed.streams.map((s) => s.name), ["a/b"]);
  const config = await basin.streams.getConfig({ stream: "a/b" });
  assert.equal(config.storageClass, "standard");
  const ensured = await basin.streams.ensure({ stream: "a/b", config: { storageClass: "standard" } });
  assert.equal(ensured.result, "noop");
  const patched = await basin.streams.reconfigure({ stream: "a/b", retentionPolicy: { infinite: {} } });
  assert.deepEqual(patched.retentionPolicy, { infinite: {} });
  await basin.streams.delete({ stream: "a/b" });
  const after = await basin.streams.list();
  assert.ok(after.streams[0].deletedAt, "listed as deleting");
});

test("unary append (JSON and protobuf), read as string and bytes, check tail", async () => {
  const s2 = client();
  const basin = await basinWithStream(s2);
  const stream = basin.stream("s");
  const ack = await stream.append(AppendInput.create([
    AppendRecord.string({ body: "hello", headers: [["k", "v"]] }),
    AppendRecord.string({ body: "world" }),
  ]));
  assert.equal(ack.start.seqNum, 0);
  assert.equal(ack.end.seqNum, 2);
  const bin = await stream.append(AppendInput.create([AppendRecord.bytes({ body: new Uint8Array([0, 255, 1]) })]));
  assert.equal(bin.end.seqNum, 3);
  const tail = await stream.checkTail();
  assert.equal(tail.tail.seqNum, 3);
  const asString = await stream.read({ start: { from: { seqNum: 0 } }, stop: { limits: { count: 2 } } });
  assert.deepEqual(bodies(asString.records), ["hello", "world"]);
  assert.deepEqual(asString.records[0].headers, [["k", "v"]]);
  const asBytes = await stream.read({ start: { from: { seqNum: 2 } } }, { as: "bytes" });
  assert.deepEqual([...asBytes.records[0].body], [0, 255, 1]);
});

test("append conditions and range errors map to the SDK's error types", async () => {
  const s2 = client();
  const basin = await basinWithStream(s2);
  const stream = basin.stream("s");
  await stream.append(AppendInput.create([AppendRecord.string({ body: "first" })]));
  await assert.rejects(
    stream.append(AppendInput.create([AppendRecord.string({ body: "x" })], { matchSeqNum: 0 })),
    (e) => e instanceof SeqNumMismatchError && e.expectedSeqNum === 1,
  );
  await stream.append(AppendInput.create([AppendRecord.fence("writer-1")]));
  await assert.rejects(
    stream.append(AppendInput.create([AppendRecord.string({ body: "x" })], { fencingToken: "writer-0" })),
    (e) => e instanceof FencingTokenMismatchError && e.expectedFencingToken === "writer-1",
  );
  await stream.append(AppendInput.create([AppendRecord.trim(1)], { fencingToken: "writer-1" }));
  await assert.rejects(
    stream.read({ start: { from: { seqNum: 100 } } }),
    (e) => e instanceof RangeNotSatisfiableError && e.tail?.seqNum === 3,
  );
  await assert.rejects(
    client().basin(freshBasin()).stream("s").checkTail(),
    (e) => e instanceof S2Error && e.status === 404 && e.code === "basin_not_found",
  );
});

for (const transport of ["s2s", "fetch"]) {
  test(`append session and read session (${transport} transport)`, async () => {
    const s2 = client();
    const basin = await basinWithStream(s2);
    const stream = basin.stream("s", { forceTransport: transport });
    const session = await stream.appendSession();
    const tickets = [];
    for (let i = 0; i < 20; i++) {
      tickets.push(await session.submit(AppendInput.create([AppendRecord.string({ body: `msg-${i}` })])));
    }
    const acks = await Promise.all(tickets.map((t) => t.ack()));
    assert.deepEqual(acks.map((a) => a.start.seqNum), [...Array(20).keys()]);
    await session.close();

    const catchUp = await stream.readSession({ start: { from: { seqNum: 0 } }, stop: { limits: { count: 20 } } });
    const got = [];
    for await (const record of catchUp) {
      got.push(record.body);
    }
    assert.deepEqual(got, [...Array(20).keys()].map((i) => `msg-${i}`));

    // Follow: a session at the tail gets a record appended after it opened.
    const follow = await stream.readSession({ start: { from: { seqNum: 20 } }, stop: { limits: { count: 1 }, waitSecs: 10 } });
    setTimeout(() => {
      stream.append(AppendInput.create([AppendRecord.string({ body: "live" })])).catch(() => {});
    }, 300);
    const live = [];
    for await (const record of follow) {
      live.push(record.body);
    }
    assert.deepEqual(live, ["live"]);
    await stream.close();
  });
}

test("append session failure surfaces the 412 from the terminal frame", async () => {
  const s2 = client();
  const basin = await basinWithStream(s2);
  const stream = basin.stream("s");
  const session = await stream.appendSession();
  const first = await session.submit(AppendInput.create([AppendRecord.string({ body: "a" })], { matchSeqNum: 0 }));
  assert.equal((await first.ack()).start.seqNum, 0);
  const bad = await session.submit(AppendInput.create([AppendRecord.string({ body: "b" })], { matchSeqNum: 0 }));
  await assert.rejects(bad.ack(), (e) => e instanceof S2Error && e.status === 412);
  await session.close().catch(() => {});
  assert.equal((await stream.checkTail()).tail.seqNum, 1);
  await stream.close();
});

test("s2s sessions with gzip compression", async () => {
  const s2 = client({ compression: "gzip" });
  const basin = await basinWithStream(s2);
  const stream = basin.stream("s");
  const big = "x".repeat(5000);
  const session = await stream.appendSession();
  const ticket = await session.submit(AppendInput.create([AppendRecord.string({ body: big }), AppendRecord.string({ body: big })]));
  assert.equal((await ticket.ack()).end.seqNum, 2);
  await session.close();
  const read = await stream.readSession({ start: { from: { seqNum: 0 } }, stop: { limits: { count: 2 } } });
  const got = [];
  for await (const record of read) {
    got.push(record.body.length);
  }
  assert.deepEqual(got, [5000, 5000]);
  await stream.close();
});

for (const cipher of ["aegis-256", "aes-256-gcm"]) {
  test(`encrypted stream (${cipher}): the key goes with every append and read; a wrong or missing key is refused`, async () => {
    const s2 = client();
    const name = freshBasin();
    await s2.basins.create({ basin: name, config: { streamCipher: cipher } });
    const basin = s2.basin(name);
    await basin.streams.create({ stream: "secret" });
    const listed = await basin.streams.list();
    assert.equal(listed.streams[0].cipher, cipher);
    const key = new Uint8Array(32).map((_, i) => i + 1);
    const stream = basin.stream("secret", { encryptionKey: key });
    const ack = await stream.append(AppendInput.create([
      AppendRecord.string({ body: "secret-1", headers: [["h", "v"]] }),
      AppendRecord.string({ body: "secret-2" }),
    ]));
    assert.equal(ack.end.seqNum, 2);
    for (const transport of ["s2s", "fetch"]) {
      const keyed = basin.stream("secret", { encryptionKey: key, forceTransport: transport });
      const session = await keyed.appendSession();
      const ticket = await session.submit(AppendInput.create([AppendRecord.string({ body: `via-${transport}` })]));
      await ticket.ack();
      await session.close();
      await keyed.close();
    }
    const read = await stream.read({ start: { from: { seqNum: 0 } } });
    assert.deepEqual(bodies(read.records), ["secret-1", "secret-2", "via-s2s", "via-fetch"]);
    assert.deepEqual(read.records[0].headers, [["h", "v"]]);
    for (const transport of ["s2s", "fetch"]) {
      const keyed = basin.stream("secret", { encryptionKey: key, forceTransport: transport });
      const session = await keyed.readSession({ start: { from: { seqNum: 0 } }, stop: { limits: { count: 4 } } });
      const got = [];
      for await (const record of session) {
        got.push(record.body);
      }
      assert.deepEqual(got, ["secret-1", "secret-2", "via-s2s", "via-fetch"], `read session over ${transport}`);
      await keyed.close();
    }
    const other = basin.stream("secret", { encryptionKey: new Uint8Array(32).fill(9) });
    await assert.rejects(other.read({ start: { from: { seqNum: 0 } } }),
      (e) => e instanceof S2Error && e.status === 400 && e.code === "decryption_failed");
    const keyless = basin.stream("secret");
    await assert.rejects(keyless.append(AppendInput.create([AppendRecord.string({ body: "x" })])),
      (e) => e instanceof S2Error && e.status === 400 && /missing encryption key/.test(e.message));
    await assert.rejects(keyless.read({ start: { from: { seqNum: 0 } } }),
      (e) => e instanceof S2Error && e.status === 400 && /missing encryption key/.test(e.message));
    assert.equal((await keyless.checkTail()).tail.seqNum, 4);
    await stream.close();
  });
}
