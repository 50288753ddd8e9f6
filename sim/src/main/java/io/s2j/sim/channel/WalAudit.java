package io.s2j.sim.channel;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.format.Chunk;
import io.s2j.format.CorruptData;
import io.s2j.format.Segment;
import io.s2j.metadata.MetaKey;
import io.s2j.metadata.proto.ChannelMeta;
import io.s2j.metadata.proto.SegmentMeta;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.sim.SimWorld;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads what a channel's streamlets durably hold straight from the simulated bucket and metadata,
 * with the rules of docs/design.md written out again independently of the channel: segments (in
 * metadata) from seq 0, then the write-ahead log walked from {@code first_live_chunk}, stopping at
 * the first missing chunk and jumping over the range a fence voids. Where segments and log overlap
 * they must agree. What it returns is what each stream durably holds, whatever any channel
 * incarnation believed.
 */
public final class WalAudit {
  private WalAudit() {}

  public static TreeMap<Long, List<SequencedRecord>> read(
      SimWorld world, String channelId, Collection<Long> streamletIds, List<String> violations) {
    return read(world, channelId, streamletIds, new TreeMap<>(), true, List.of(), violations);
  }

  /**
   * As above; when {@code zonalBuckets} is not empty the channel is express and its log is read from
   * those three buckets instead: a chunk is in the log when two of them hold the same bytes under its
   * key (what the quorum decided), and absent otherwise — whatever a single bucket holds.
   */
  public static TreeMap<Long, List<SequencedRecord>> read(
      SimWorld world, String channelId, Collection<Long> streamletIds, List<String> zonalBuckets, List<String> violations) {
    return read(world, channelId, streamletIds, new TreeMap<>(), true, zonalBuckets, violations);
  }

  /**
   * As above, for streamlets that start past 0 (links after a migration): {@code startOf} gives each
   * one's start; a returned log then holds the streamlet's records from its start (index {@code i}
   * is seq {@code start + i}). With {@code alsoUnlisted} false only the listed streamlets are
   * audited (the cell's lifecycle streams are trimmed, collected and purged, so their segments need
   * not tile from their start: the lifecycle ledger and the GC audit check them).
   */
  public static TreeMap<Long, List<SequencedRecord>> read(SimWorld world, String channelId, Collection<Long> streamletIds,
      java.util.Map<Long, Long> startOf, boolean alsoUnlisted, List<String> zonalBuckets, List<String> violations) {
    long first = 0;
    var meta = world.metadata().peek(MetaKey.channel(channelId));
    if (meta.isPresent()) {
      try {
        first = ChannelMeta.parseFrom(meta.get().value()).getFirstLiveChunk();
      } catch (InvalidProtocolBufferException e) {
        violations.add(channelId + ": undecodable channel metadata");
      }
    }
    String prefix = "wal/" + channelId + "/";
    TreeMap<Long, ByteString> chunks = new TreeMap<>();
    if (zonalBuckets.isEmpty()) {
      for (ObjectKey k : world.bucket().keys()) {
        if (k.value().startsWith(prefix)) {
          chunks.put(Long.parseLong(k.value().substring(prefix.length())), world.bucket().peek(k));
        }
      }
    } else {
      TreeSet<ObjectKey> keys = new TreeSet<>();
      zonalBuckets.forEach(b -> keys.addAll(world.bucket(b).keys()));
      for (ObjectKey k : keys) {
        if (!k.value().startsWith(prefix)) {
          continue;
        }
        List<ByteString> copies = new ArrayList<>();
        zonalBuckets.forEach(b -> copies.add(world.bucket(b).peek(k)));
        for (int i = 0; i < copies.size(); i++) {
          for (int j = i + 1; j < copies.size(); j++) {
            if (copies.get(i) != null && copies.get(i).equals(copies.get(j))) {
              chunks.put(Long.parseLong(k.value().substring(prefix.length())), copies.get(i));
            }
          }
        }
      }
      for (ObjectKey k : world.bucket().keys()) {
        if (k.value().startsWith(prefix)) {
          violations.add(channelId + ": express chunk " + k + " is in the regional bucket");
        }
      }
    }
    TreeMap<Long, List<SequencedRecord>> wal = new TreeMap<>();
    long seq = first;
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
      if (c.origin().isFence()) {
        seq = c.origin().voidThroughChunkSeqNum() + 1;
        continue;
      }
      for (Chunk.Entry e : c.entries()) {
        List<SequencedRecord> records = wal.computeIfAbsent(e.streamletId(), k -> new ArrayList<>());
        long expected = records.isEmpty() ? e.firstSeqNum() : records.get(records.size() - 1).seqNum() + 1;
        if (e.firstSeqNum() != expected) {
          violations.add(channelId + ": streamlet " + e.streamletId() + " entry at seq " + e.firstSeqNum()
              + " in chunk " + seq + " but the chain is at " + expected);
        }
        records.addAll(e.records());
      }
      seq++;
    }
    TreeSet<Long> ids = new TreeSet<>(streamletIds);
    if (alsoUnlisted) {
      ids.addAll(wal.keySet());
    }
    TreeMap<Long, List<SequencedRecord>> logs = new TreeMap<>();
    for (long id : ids) {
      long start = startOf.getOrDefault(id, 0L);
      List<SequencedRecord> log = segments(world, id, start, violations);
      List<SequencedRecord> tail = wal.getOrDefault(id, List.of());
      if (!tail.isEmpty()) {
        long w0 = tail.get(0).seqNum();
        if (w0 > start + log.size()) {
          violations.add(channelId + ": streamlet " + id + " has records " + (start + log.size()) + ".." + w0
              + " neither in segments nor in the live log");
        }
        for (SequencedRecord r : tail) {
          long at = r.seqNum() - start;
          if (at < 0) {
            violations.add(channelId + ": streamlet " + id + " holds seq " + r.seqNum() + " below its start " + start);
          } else if (at < log.size()) {
            if (!log.get((int) at).equals(r)) {
              violations.add(channelId + ": streamlet " + id + " seq " + r.seqNum() + " differs between segment and log");
            }
          } else if (at == log.size()) {
            log.add(r);
          }
        }
      }
      logs.put(id, log);
    }
    return logs;
  }

  /** A streamlet's records from its segments, which must tile it from its start. */
  private static List<SequencedRecord> segments(SimWorld world, long streamletId, long start, List<String> violations) {
    List<SequencedRecord> out = new ArrayList<>();
    ByteString prefix = MetaKey.segmentsPrefix(streamletId);
    for (KeyValue kv : world.metadata().entries()) {
      if (!kv.key().startsWith(prefix)) {
        continue;
      }
      try {
        SegmentMeta meta = SegmentMeta.parseFrom(kv.value());
        if (meta.getFirstSeqNum() != start + out.size()) {
          violations.add("streamlet " + streamletId + ": segment starts at " + meta.getFirstSeqNum() + ", expected " + (start + out.size()));
          return out;
        }
        ByteString bytes = world.bucket().peek(ObjectKey.of(meta.getObjectKey()));
        if (bytes == null) {
          violations.add("segment object " + meta.getObjectKey() + " recorded in metadata is missing");
          return out;
        }
        List<SequencedRecord> records = Segment.parse(bytes).records();
        if (records.size() != meta.getRecordCount()) {
          violations.add("segment " + meta.getObjectKey() + " holds " + records.size() + " records, metadata says " + meta.getRecordCount());
        }
        out.addAll(records);
      } catch (InvalidProtocolBufferException | CorruptData e) {
        violations.add("streamlet " + streamletId + ": unreadable segment: " + e.getMessage());
        return out;
      }
    }
    return out;
  }
}
