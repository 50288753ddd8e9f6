package io.s2j.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.s2j.api.Checked;
import io.s2j.api.ErrorCode;
import io.s2j.api.StreamCipher;
import io.s2j.record.AppendRecord;
import io.s2j.record.Command;
import io.s2j.record.Header;
import io.s2j.record.Limits;
import io.s2j.record.SequencedRecord;
import io.s2j.runtime.RandomSource;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RecordEncryptionTest {
  private static final EncryptionKey KEY = EncryptionKey.of(new byte[32]);
  private static final EncryptionKey OTHER = EncryptionKey.of(new byte[] {
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32});
  private static final NonceSource NONCES = RandomSource.seeded(1)::nextBytes;

  private static SequencedRecord stored(long seq, AppendRecord r) {
    return new SequencedRecord(seq, 5, r.headers(), r.body());
  }

  @ParameterizedTest
  @EnumSource(StreamCipher.class)
  void roundTripsHeadersAndBodyAndHidesThem(StreamCipher cipher) {
    AppendRecord plain = new AppendRecord(null, List.of(new Header(ByteString.copyFromUtf8("name"), ByteString.copyFromUtf8("value"))),
        ByteString.copyFromUtf8("the secret body"));
    AppendRecord sealed = RecordEncryption.encrypt(cipher, KEY, 42, plain, NONCES);
    assertTrue(sealed.headers().isEmpty());
    assertFalse(sealed.body().toStringUtf8().contains("secret"), "the body is stored sealed");
    assertTrue(sealed.meteredBytes() <= plain.meteredBytes() + RecordEncryption.OVERHEAD_BYTES_MAX + 8);
    SequencedRecord back = RecordEncryption.decrypt(cipher, KEY, 42, stored(3, sealed));
    assertEquals(new SequencedRecord(3, 5, plain.headers(), plain.body()), back);
    assertNotEquals(sealed.body(), RecordEncryption.encrypt(cipher, KEY, 42, plain, NONCES).body(), "a fresh nonce each time");
  }

  @ParameterizedTest
  @EnumSource(StreamCipher.class)
  void wrongKeyOrStreamIsDecryptionFailed(StreamCipher cipher) {
    AppendRecord sealed = RecordEncryption.encrypt(cipher, KEY, 42, AppendRecord.of("x"), NONCES);
    var wrongKey = assertThrows(RecordEncryption.Failure.class, () -> RecordEncryption.decrypt(cipher, OTHER, 42, stored(0, sealed)));
    assertEquals(ErrorCode.DECRYPTION_FAILED, wrongKey.error().code());
    var otherStream = assertThrows(RecordEncryption.Failure.class, () -> RecordEncryption.decrypt(cipher, KEY, 43, stored(0, sealed)));
    assertEquals(ErrorCode.DECRYPTION_FAILED, otherStream.error().code(), "a record of another incarnation does not verify");
  }

  @ParameterizedTest
  @EnumSource(StreamCipher.class)
  void plaintextEnvelopeOrOtherCipherIsAStorageError(StreamCipher cipher) {
    var plain = assertThrows(RecordEncryption.Failure.class,
        () -> RecordEncryption.decrypt(cipher, KEY, 42, stored(0, AppendRecord.of("not sealed at all, long enough to parse"))));
    assertEquals(ErrorCode.STORAGE, plain.error().code());
    StreamCipher other = cipher == StreamCipher.AEGIS_256 ? StreamCipher.AES_256_GCM : StreamCipher.AEGIS_256;
    AppendRecord sealedOther = RecordEncryption.encrypt(other, KEY, 42, AppendRecord.of("x"), NONCES);
    var mismatch = assertThrows(RecordEncryption.Failure.class, () -> RecordEncryption.decrypt(cipher, KEY, 42, stored(0, sealedOther)));
    assertEquals(ErrorCode.STORAGE, mismatch.error().code());
  }

  @ParameterizedTest
  @EnumSource(StreamCipher.class)
  void commandsStayPlaintext(StreamCipher cipher) {
    AppendRecord fence = Command.toRecord(new Command.Fence("token"));
    assertSame(fence, RecordEncryption.encrypt(cipher, KEY, 42, fence, NONCES));
    SequencedRecord s = stored(0, fence);
    assertSame(s, RecordEncryption.decrypt(cipher, null, 42, s));
  }

  @ParameterizedTest
  @EnumSource(StreamCipher.class)
  void aRecordAtTheLimitStaysWithinTheStoredBound(StreamCipher cipher) {
    ByteString name = ByteString.copyFrom(new byte[200]);
    ByteString value = ByteString.copyFrom(new byte[20_000]);
    int body = (int) (Limits.RECORD_METERED_BYTES_MAX - 8 - 2 - name.size() - value.size());
    AppendRecord max = new AppendRecord(null, List.of(new Header(ByteString.copyFromUtf8("n").concat(name), value)),
        ByteString.copyFrom(new byte[body - 1]));
    assertEquals(Limits.RECORD_METERED_BYTES_MAX, max.meteredBytes());
    AppendRecord sealed = RecordEncryption.encrypt(cipher, KEY, 1, max, NONCES);
    assertTrue(sealed.meteredBytes() <= Limits.STORED_RECORD_METERED_BYTES_MAX, () -> "sealed meters " + sealed.meteredBytes());
  }

  @org.junit.jupiter.api.Test
  void headerKeysAreCheckedWithS2sMessages() {
    assertTrue(EncryptionKey.parseHeader(" " + Base64.getEncoder().encodeToString(new byte[32]) + " ") instanceof Checked.Ok);
    assertEquals("invalid `s2-encryption-key` header: invalid base64",
        ((Checked.Invalid<EncryptionKey>) EncryptionKey.parseHeader("***")).message());
    assertTrue(((Checked.Invalid<EncryptionKey>) EncryptionKey.parseHeader(Base64.getEncoder().encodeToString(new byte[31])))
        .message().startsWith("invalid encryption key length"));
    assertTrue(EncryptionKey.parseHeader("x".repeat(45)) instanceof Checked.Invalid);
  }
}
