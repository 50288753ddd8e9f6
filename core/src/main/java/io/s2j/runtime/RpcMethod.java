package io.s2j.runtime;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.regex.Pattern;

/**
 * A typed request/response method between component instances, such as {@code channel.Append}.
 *
 * <p>Requests and responses are protobuf messages and are encoded to bytes on every call, in the
 * simulator as in the real runtime, so codecs are exercised by every simulated run.
 */
public record RpcMethod<Req extends Message, Resp extends Message>(
    String name, Parser<Req> requestParser, Parser<Resp> responseParser) {
  private static final Pattern VALID = Pattern.compile("[a-z][a-z0-9]*\\.[A-Za-z][A-Za-z0-9]*");

  public RpcMethod {
    if (name == null || !VALID.matcher(name).matches()) {
      throw new IllegalArgumentException("rpc method names look like service.Method: " + name);
    }
  }

  public static <Req extends Message, Resp extends Message> RpcMethod<Req, Resp> of(
      String name, Parser<Req> requestParser, Parser<Resp> responseParser) {
    return new RpcMethod<>(name, requestParser, responseParser);
  }
}
