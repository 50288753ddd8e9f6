package io.s2j.crypto;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;
import io.s2j.api.StreamCipher;
import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.record.Header;
import io.s2j.record.SequencedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encryption of a stream's records with its cipher (S2-API §15). Only envelope records (not
 * commands) are encrypted, each on its own with a fresh random nonce; the associated data is the
 * stream's incarnation id, so a record cannot be replayed into another stream, or into a stream
 * re-created under the same name.
 *
 * <p>An encrypted record is stored without headers; its body is
 * {@code format ‖ nonce ‖ ciphertext ‖ tag}, where {@code format} is {@code 0x01} for AEGIS-256
 * (32-byte nonce) and {@code 0x02} for AES-256-GCM (12-byte nonce), both with 16-byte tags, and the
 * plaintext is the envelope: varint header count, each header as varint length and name, varint
 * length and value, then the body.
 */
public final class RecordEncryption {
  static final byte FORMAT_AEGIS_256 = 0x01;
  static final byte FORMAT_AES_256_GCM = 0x02;
  static final int GCM_NONCE_BYTES = 12;
  static final int TAG_BYTES = 16;

  /** The most an encrypted record's stored body adds to its plaintext's metered size. */
  public static final int OVERHEAD_BYTES_MAX = 1 + Aegis256.NONCE_BYTES + TAG_BYTES;

  private RecordEncryption() {}

  /** A record that cannot be served: {@code decryption_failed} (wrong key) or {@code storage} (not a record of this stream). */
  public static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient S2Error error;

    Failure(S2Error error) {
      super(error.message(), null, false, false);
      this.error = error;
    }

    public S2Error error() {
      return error;
    }
  }

  /** The error for an encrypted stream's request without a key (S2-API §15). */
  public static S2Error missingKey(StreamCipher cipher) {
    return new S2Error(ErrorCode.BAD_HEADER, "missing encryption key for stream cipher '" + cipher.wireName() + "'");
  }

  /** {@code record} as stored on a stream with {@code cipher}: commands unchanged, envelopes sealed. */
  public static AppendRecord encrypt(StreamCipher cipher, EncryptionKey key, long streamId, AppendRecord record, NonceSource nonces) {
    if (Command.isCommand(record.headers())) {
      return record;
    }
    byte[] plain = envelope(record.headers(), record.body());
    byte[] nonce = new byte[cipher == StreamCipher.AEGIS_256 ? Aegis256.NONCE_BYTES : GCM_NONCE_BYTES];
    nonces.fill(nonce);
    byte[] sealed = switch (cipher) {
      case AEGIS_256 -> Aegis256.encrypt(key.bytes(), nonce, associatedData(streamId), plain);
      case AES_256_GCM -> gcm(Cipher.ENCRYPT_MODE, key, nonce, streamId, plain);
    };
    ByteBuffer body = ByteBuffer.allocate(1 + nonce.length + sealed.length);
    body.put(cipher == StreamCipher.AEGIS_256 ? FORMAT_AEGIS_256 : FORMAT_AES_256_GCM).put(nonce).put(sealed).flip();
    return new AppendRecord(record.timestamp(), List.of(), ByteString.copyFrom(body));
  }

  /** The records as the client appended them; throws {@link Failure}. */
  public static List<SequencedRecord> decrypt(StreamCipher cipher, EncryptionKey key, long streamId, List<SequencedRecord> records) {
    List<SequencedRecord> out = new ArrayList<>(records.size());
    for (SequencedRecord r : records) {
      out.add(decrypt(cipher, key, streamId, r));
    }
    return out;
  }

  /** The record as the client appended it; throws {@link Failure}. */
  public static SequencedRecord decrypt(StreamCipher cipher, EncryptionKey key, long streamId, SequencedRecord record) {
    if (record.isCommand()) {
      return record;
    }
    byte format = cipher == StreamCipher.AEGIS_256 ? FORMAT_AEGIS_256 : FORMAT_AES_256_GCM;
    int nonceBytes = cipher == StreamCipher.AEGIS_256 ? Aegis256.NONCE_BYTES : GCM_NONCE_BYTES;
    ByteString body = record.body();
    if (!record.headers().isEmpty() || body.size() < 1 + nonceBytes + TAG_BYTES || body.byteAt(0) != format) {
      throw new Failure(new S2Error(ErrorCode.STORAGE,
          "record " + record.seqNum() + " of an encrypted stream is not a " + cipher.wireName() + " envelope"));
    }
    byte[] nonce = body.substring(1, 1 + nonceBytes).toByteArray();
    byte[] sealed = body.substring(1 + nonceBytes).toByteArray();
    byte[] plain = switch (cipher) {
      case AEGIS_256 -> Aegis256.decrypt(key.bytes(), nonce, associatedData(streamId), sealed);
      case AES_256_GCM -> gcm(Cipher.DECRYPT_MODE, key, nonce, streamId, sealed);
    };
    if (plain == null) {
      throw new Failure(new S2Error(ErrorCode.DECRYPTION_FAILED, "record decryption failed"));
    }
    return fromEnvelope(record, plain);
  }

  static byte[] envelope(List<Header> headers, ByteString body) {
    int n = CodedOutputStream.computeUInt32SizeNoTag(headers.size()) + body.size();
    for (Header h : headers) {
      n += CodedOutputStream.computeBytesSizeNoTag(h.name()) + CodedOutputStream.computeBytesSizeNoTag(h.value());
    }
    byte[] out = new byte[n];
    CodedOutputStream w = CodedOutputStream.newInstance(out);
    try {
      w.writeUInt32NoTag(headers.size());
      for (Header h : headers) {
        w.writeBytesNoTag(h.name());
        w.writeBytesNoTag(h.value());
      }
      w.writeRawBytes(body);
      w.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("envelope size computed wrongly", e);
    }
    return out;
  }

  private static SequencedRecord fromEnvelope(SequencedRecord stored, byte[] plain) {
    try {
      CodedInputStream r = CodedInputStream.newInstance(plain);
      int count = r.readUInt32();
      if (count < 0 || count > plain.length / 2) {
        throw new IOException("header count " + count);
      }
      List<Header> headers = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        ByteString name = r.readBytes();
        ByteString value = r.readBytes();
        headers.add(new Header(name, value));
      }
      ByteString body = ByteString.copyFrom(plain, r.getTotalBytesRead(), plain.length - r.getTotalBytesRead());
      return new SequencedRecord(stored.seqNum(), stored.timestamp(), headers, body);
    } catch (IOException | IllegalArgumentException e) {
      throw new Failure(new S2Error(ErrorCode.STORAGE, "record " + stored.seqNum() + " decrypted to a malformed envelope"));
    }
  }

  private static byte[] associatedData(long streamId) {
    return ByteBuffer.allocate(8).putLong(streamId).array();
  }

  /** AES-256-GCM through the JDK's provider; null when the tag does not verify. */
  private static byte[] gcm(int mode, EncryptionKey key, byte[] nonce, long streamId, byte[] input) {
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(mode, new SecretKeySpec(key.bytes(), "AES"), new GCMParameterSpec(TAG_BYTES * 8, nonce));
      c.updateAAD(associatedData(streamId));
      return c.doFinal(input);
    } catch (AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is not available in this JDK", e);
    }
  }
}
