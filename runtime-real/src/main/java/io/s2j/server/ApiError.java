package io.s2j.server;

import io.s2j.api.ErrorCode;
import io.s2j.api.S2Error;

/**
 * A request refused before it reached the cell (bad header, path, query or body): thrown by the
 * parsing code and turned into S2's {@code {"code","message"}} response by the handler.
 */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient S2Error error;

  ApiError(ErrorCode code, String message) {
    super(message, null, false, false);
    this.error = new S2Error(code, message);
  }

  S2Error error() {
    return error;
  }

  static ApiError badHeader(String message) {
    return new ApiError(ErrorCode.BAD_HEADER, message);
  }

  static ApiError badJson(String message) {
    return new ApiError(ErrorCode.BAD_JSON, message);
  }

  static ApiError badPath(String message) {
    return new ApiError(ErrorCode.BAD_PATH, message);
  }

  static ApiError badQuery(String message) {
    return new ApiError(ErrorCode.BAD_QUERY, message);
  }

  static ApiError badProto(String message) {
    return new ApiError(ErrorCode.BAD_PROTO, message);
  }

  static ApiError invalid(String message) {
    return new ApiError(ErrorCode.INVALID, message);
  }
}
