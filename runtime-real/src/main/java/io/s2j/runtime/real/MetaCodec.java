package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataState;
import io.s2j.runtime.metadata.Mutation;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.real.proto.MetaLogEntry;
import io.s2j.runtime.real.proto.MetaMutation;
import io.s2j.runtime.real.proto.MetaSnapshot;
import io.s2j.runtime.real.proto.MetaSnapshotEntry;
import io.s2j.runtime.real.proto.MetaTxn;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The envelope of every object of {@link ObjectStoreMetadataStore}:
 *
 * <pre>
 * +0   4  magic "S2JM"
 * +4   1  format version (1)
 * +5   1  kind: 1 = log entry (MetaLogEntry), 2 = snapshot (MetaSnapshot)
 * +6   n  protobuf body (s2j/metastore/metastore.proto)
 * +6+n 4  CRC32C (big-endian) of bytes +0 .. +6+n
 * </pre>
 *
 * <p>A reader refuses an unknown version or kind, a bad magic or CRC: recovery stops loudly rather
 * than guess (a newer writer's format, or a damaged object).
 */
final class MetaCodec {
  static final int VERSION = 1;
  static final int KIND_LOG = 1;
  static final int KIND_SNAPSHOT = 2;
  private static final byte[] MAGIC = {'S', '2', 'J', 'M'};
  private static final int HEADER = 6;
  private static final int TRAILER = 4;

  private MetaCodec() {}

  /** The object bytes could not be decoded: a damaged object, or another format. */
  static final class FormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FormatException(String message) {
      super(message);
    }
  }

  static ByteString encodeLog(MetaLogEntry entry) {
    return wrap(KIND_LOG, entry.toByteString());
  }

  static ByteString encodeSnapshot(MetaSnapshot snapshot) {
    return wrap(KIND_SNAPSHOT, snapshot.toByteString());
  }

  static MetaLogEntry decodeLog(String what, ByteString data) {
    try {
      return MetaLogEntry.parseFrom(unwrap(what, KIND_LOG, data));
    } catch (InvalidProtocolBufferException e) {
      throw new FormatException(what + ": undecodable log entry: " + e.getMessage());
    }
  }

  static MetaSnapshot decodeSnapshot(String what, ByteString data) {
    try {
      return MetaSnapshot.parseFrom(unwrap(what, KIND_SNAPSHOT, data));
    } catch (InvalidProtocolBufferException e) {
      throw new FormatException(what + ": undecodable snapshot: " + e.getMessage());
    }
  }

  private static ByteString wrap(int kind, ByteString body) {
    ByteBuffer buf = ByteBuffer.allocate(HEADER + body.size() + TRAILER);
    buf.put(MAGIC).put((byte) VERSION).put((byte) kind);
    body.copyTo(buf);
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, buf.position());
    buf.putInt((int) crc.getValue());
    return ByteString.copyFrom(buf.array());
  }

  private static ByteString unwrap(String what, int kind, ByteString data) {
    if (data.size() < HEADER + TRAILER) {
      throw new FormatException(what + ": " + data.size() + " bytes is shorter than the envelope");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (data.byteAt(i) != MAGIC[i]) {
        throw new FormatException(what + ": bad magic (not an s2j metadata object)");
      }
    }
    int version = Byte.toUnsignedInt(data.byteAt(4));
    if (version != VERSION) {
      throw new FormatException(what + ": format version " + version + ", this build reads " + VERSION);
    }
    int actualKind = Byte.toUnsignedInt(data.byteAt(5));
    if (actualKind != kind) {
      throw new FormatException(what + ": kind " + actualKind + ", expected " + kind);
    }
    int end = data.size() - TRAILER;
    CRC32C crc = new CRC32C();
    for (ByteBuffer b : data.substring(0, end).asReadOnlyByteBufferList()) {
      crc.update(b);
    }
    int stored = data.substring(end).asReadOnlyByteBuffer().getInt();
    if (stored != (int) crc.getValue()) {
      throw new FormatException(what + ": CRC32C mismatch");
    }
    return data.substring(HEADER, end);
  }

  static MetaTxn txnOf(Txn txn) {
    MetaTxn.Builder b = MetaTxn.newBuilder();
    for (Mutation m : txn.mutations()) {
      switch (m) {
        case Mutation.Put p -> b.addMutations(MetaMutation.newBuilder().setKey(p.key()).setPut(p.value()));
        case Mutation.Delete d -> b.addMutations(MetaMutation.newBuilder().setKey(d.key()).setDelete(true));
      }
    }
    return b.build();
  }

  /** The logged writes of a transaction, as an unconditional {@link Txn} to replay. */
  static Txn replayTxn(String what, MetaTxn txn) {
    List<Mutation> mutations = new ArrayList<>(txn.getMutationsCount());
    for (MetaMutation m : txn.getMutationsList()) {
      switch (m.getOpCase()) {
        case PUT -> mutations.add(new Mutation.Put(m.getKey(), m.getPut()));
        case DELETE -> mutations.add(new Mutation.Delete(m.getKey()));
        default -> throw new FormatException(what + ": a mutation of unknown kind " + m.getOpCase());
      }
    }
    try {
      return new Txn(List.of(), mutations);
    } catch (IllegalArgumentException e) {
      throw new FormatException(what + ": a logged transaction breaks the bounds: " + e.getMessage());
    }
  }

  static MetaSnapshot snapshotOf(long seq, long revision, ByteString writerId, List<KeyValue> entries) {
    MetaSnapshot.Builder b = MetaSnapshot.newBuilder().setSeq(seq).setRevision(revision).setWriterId(writerId);
    for (KeyValue kv : entries) {
      b.addEntries(MetaSnapshotEntry.newBuilder().setKey(kv.key()).setValue(kv.value()).setModRevision(kv.modRevision()));
    }
    return b.build();
  }

  /** The state a snapshot holds. */
  static MetadataState stateOf(String what, MetaSnapshot snapshot) {
    List<KeyValue> entries = new ArrayList<>(snapshot.getEntriesCount());
    for (MetaSnapshotEntry e : snapshot.getEntriesList()) {
      if (e.getModRevision() < 1 || e.getModRevision() > snapshot.getRevision()) {
        throw new FormatException(what + ": entry mod revision " + e.getModRevision()
            + " outside 1.." + snapshot.getRevision());
      }
      entries.add(new KeyValue(e.getKey(), e.getValue(), e.getModRevision()));
    }
    try {
      return MetadataState.restore(snapshot.getRevision(), entries);
    } catch (IllegalArgumentException e) {
      throw new FormatException(what + ": " + e.getMessage());
    }
  }
}
