package io.s2j.server;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** How record bytes are spelled in JSON ({@code s2-format}, S2-API §1.3). */
enum RecordFormat {
  /** The UTF-8 text of the bytes; lossy on output (invalid sequences become U+FFFD). */
  RAW,
  /** Standard base64, lossless. */
  BASE64;

  /** The format named by an {@code s2-format} header value (null = the default, raw). */
  static RecordFormat fromHeader(String value) {
    if (value == null) {
      return RAW;
    }
    return switch (value.trim()) {
      case "raw", "json" -> RAW;
      case "base64", "json-binsafe" -> BASE64;
      default -> throw ApiError.badHeader("invalid s2-format header value: `" + value.trim() + "`");
    };
  }

  String encode(ByteString bytes) {
    return switch (this) {
      case RAW -> new String(bytes.toByteArray(), StandardCharsets.UTF_8);
      case BASE64 -> Base64.getEncoder().encodeToString(bytes.toByteArray());
    };
  }

  ByteString decode(String text) {
    return switch (this) {
      case RAW -> ByteString.copyFromUtf8(text);
      case BASE64 -> {
        try {
          yield ByteString.copyFrom(Base64.getDecoder().decode(text));
        } catch (IllegalArgumentException e) {
          throw ApiError.invalid("invalid Base64 encoding");
        }
      }
    };
  }
}
