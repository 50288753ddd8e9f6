package io.s2j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErrorCodeTest {
  @Test
  void section3_2_table() {
    assertEquals(28, ErrorCode.values().length);
    assertEquals(422, ErrorCode.INVALID.httpStatus());
    assertEquals(499, ErrorCode.CLIENT_HANGUP.httpStatus());
    assertEquals(ErrorCode.TRANSACTION_CONFLICT, ErrorCode.fromWireCode("transaction_conflict"));
    assertEquals(true, ErrorCode.TRANSACTION_CONFLICT.retryable());
    assertEquals(true, ErrorCode.TRANSACTION_CONFLICT.noSideEffects());
    // the indefinite ones: the operation may have taken effect
    for (ErrorCode c : ErrorCode.values()) {
      boolean indefinite = switch (c) {
        case CLIENT_HANGUP, OTHER, REQUEST_TIMEOUT, STORAGE, UNAVAILABLE, UPSTREAM_TIMEOUT -> true;
        default -> false;
      };
      assertEquals(indefinite, !c.noSideEffects(), c.wireCode());
      assertEquals(c, ErrorCode.fromWireCode(c.wireCode()));
    }
  }

  @Test
  void liteMessages() {
    BasinName b = new BasinName("my-basin-01");
    assertEquals("stream `orders` in basin `my-basin-01` not found", S2Error.streamNotFound(b, new StreamName("orders")).message());
    assertEquals(ErrorCode.STREAM_DELETION_PENDING, S2Error.streamDeletionPending(b, new StreamName("s")).code());
  }
}
