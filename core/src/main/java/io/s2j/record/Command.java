package io.s2j.record;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A command record (S2-API §2.4): exactly one header, with an empty name, whose value names the
 * operation; the body is its payload.
 */
public sealed interface Command {
  /** Sets the stream's fencing token (empty clears it). */
  record Fence(String token) implements Command {}

  /**
   * Raises the trim point to {@code min(earliestSeqNum, own seq_num + 1)}. The payload is a u64:
   * compare it with {@link Long#compareUnsigned}.
   */
  record Trim(long earliestSeqNum) implements Command {}

  ByteString FENCE = ByteString.copyFromUtf8("fence");
  ByteString TRIM = ByteString.copyFromUtf8("trim");

  static boolean isCommand(List<Header> headers) {
    return headers.size() == 1 && headers.get(0).name().isEmpty();
  }

  /** The record of {@code command}, as a client would append it. */
  static AppendRecord toRecord(Command command) {
    return switch (command) {
      case Fence f -> new AppendRecord(null, List.of(new Header(ByteString.EMPTY, FENCE)), ByteString.copyFromUtf8(f.token()));
      case Trim t -> new AppendRecord(null, List.of(new Header(ByteString.EMPTY, TRIM)),
          ByteString.copyFrom(ByteBuffer.allocate(8).putLong(t.earliestSeqNum()).flip()));
    };
  }

  /**
   * The command a record carries: null for an ordinary record; throws {@link InvalidRecord} with
   * S2's message for a malformed command or an empty header name outside a command.
   */
  static Command parse(List<Header> headers, ByteString body) {
    if (!isCommand(headers)) {
      for (Header h : headers) {
        if (h.name().isEmpty()) {
          throw new InvalidRecord("invalid header: empty name");
        }
      }
      return null;
    }
    ByteString op = headers.get(0).value();
    if (op.equals(FENCE)) {
      if (body.size() > Limits.FENCING_TOKEN_BYTES_MAX) {
        throw new InvalidRecord("fencing token must not exceed " + Limits.FENCING_TOKEN_BYTES_MAX + " bytes");
      }
      try {
        String token = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(body.asReadOnlyByteBuffer())
            .toString();
        return new Fence(token);
      } catch (CharacterCodingException e) {
        throw new InvalidRecord("fencing token must be valid UTF-8");
      }
    }
    if (op.equals(TRIM)) {
      if (body.size() != 8) {
        throw new InvalidRecord("earliest sequence number to trim to was " + body.size() + " bytes, must be 8");
      }
      long earliest = body.asReadOnlyByteBuffer().getLong();
      return new Trim(earliest);
    }
    throw new InvalidRecord("unknown command");
  }

  /** A record or batch that breaks S2's rules: HTTP 422 {@code invalid}. */
  final class InvalidRecord extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidRecord(String message) {
      super(message, null, false, false);
    }
  }
}
