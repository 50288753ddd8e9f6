package io.s2j.server;

import io.netty.handler.codec.compression.StandardCompressionOptions;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Compresses unary response bodies over 1 KiB with gzip or zstd per {@code Accept-Encoding}, as
 * lite does (S2-API §1.4); never event streams or S2S bodies (S2S compresses per message).
 */
final class ResponseCompressor extends HttpContentCompressor {
  static final int THRESHOLD_BYTES = 1024;

  ResponseCompressor() {
    super(THRESHOLD_BYTES, StandardCompressionOptions.zstd(), StandardCompressionOptions.gzip());
  }

  @Override
  protected Result beginEncode(HttpResponse response, String acceptEncoding) throws Exception {
    String type = ApiHandler.mediaType(response.headers().get(HttpHeaderNames.CONTENT_TYPE));
    if (ApiHandler.EVENT_STREAM.equals(type) || ApiHandler.S2S.equals(type)) {
      return null;
    }
    return super.beginEncode(response, acceptEncoding);
  }
}
