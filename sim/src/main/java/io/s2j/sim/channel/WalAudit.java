package io.s2j.sim.channel;

import com.google.protobuf.ByteString;
import io.s2j.format.Chunk;
import io.s2j.format.CorruptData;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.sim.SimObjectStore;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Reads a channel's write-ahead log straight from the simulated bucket, with the chain rule of
 * docs/design.md written out again independently of the channel: walk chunk numbers from 0, stop
 * at the first missing one, jump over the range a fence voids. What it returns is what the stream
 * durably holds, whatever any channel incarnation believed.
 */
public final class WalAudit {
  private WalAudit() {}

  public static TreeMap<Long, List<SequencedRecord>> read(SimObjectStore bucket, String channelId, List<String> violations) {
    String prefix = "wal/" + channelId + "/";
    TreeMap<Long, ByteString> chunks = new TreeMap<>();
    for (ObjectKey k : bucket.keys()) {
      if (k.value().startsWith(prefix)) {
        chunks.put(Long.parseLong(k.value().substring(prefix.length())), bucket.peek(k));
      }
    }
    TreeMap<Long, List<SequencedRecord>> streams = new TreeMap<>();
    long seq = 0;
    long maxEpoch = 0;
    while (chunks.containsKey(seq)) {
      Chunk.Contents c;
      try {
        c = Chunk.parse(chunks.get(seq));
      } catch (CorruptData e) {
        violations.add(channelId + ": chunk " + seq + " is corrupt: " + e.getMessage());
        break;
      }
      if (c.origin().writerEpoch() < maxEpoch) {
        violations.add(channelId + ": chunk " + seq + " of epoch " + c.origin().writerEpoch()
            + " follows epoch " + maxEpoch + " inside the chain");
      }
      maxEpoch = Math.max(maxEpoch, c.origin().writerEpoch());
      if (c.origin().voidThroughChunkSeqNum() > 0) {
        seq = c.origin().voidThroughChunkSeqNum() + 1;
        continue;
      }
      for (Chunk.Entry e : c.entries()) {
        List<SequencedRecord> records = streams.computeIfAbsent(e.streamletId(), k -> new ArrayList<>());
        if (e.firstSeqNum() != records.size()) {
          violations.add(channelId + ": streamlet " + e.streamletId() + " entry at seq " + e.firstSeqNum()
              + " in chunk " + seq + " but the chain holds " + records.size() + " records");
        }
        records.addAll(e.records());
      }
      seq++;
    }
    return streams;
  }
}
