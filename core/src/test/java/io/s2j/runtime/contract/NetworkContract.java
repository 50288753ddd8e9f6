package io.s2j.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.RpcMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@link io.s2j.runtime.Network} contract, fault-free. */
public abstract class NetworkContract {
  protected abstract SeamHarness newHarness() throws Exception;

  static final RpcMethod<StringValue, StringValue> ECHO = RpcMethod.of("test.Echo", StringValue.parser(), StringValue.parser());
  static final RpcMethod<Int64Value, Int64Value> NEVER = RpcMethod.of("test.Never", Int64Value.parser(), Int64Value.parser());
  static final RpcMethod<Int64Value, Int64Value> BROKEN = RpcMethod.of("test.Broken", Int64Value.parser(), Int64Value.parser());
  static final RpcMethod<Int64Value, Int64Value> MISSING = RpcMethod.of("test.Missing", Int64Value.parser(), Int64Value.parser());

  private static final long SECOND_NS = 1_000_000_000L;

  private SeamHarness harness;
  private Env client;
  private Env server;

  @BeforeEach
  public void setUp() throws Exception {
    harness = newHarness();
    client = harness.env("client");
    server = harness.env("server");
    harness.await(server, e -> {
      e.network().serve(ECHO, (caller, req) -> Promise.completed(e.scheduler(), StringValue.of(caller + ":" + req.getValue())));
      e.network().serve(NEVER, (caller, req) -> e.promise());
      e.network().serve(BROKEN, (caller, req) -> Promise.failed(e.scheduler(), new IllegalStateException("handler bug")));
      return Promise.completed(e.scheduler(), e.node());
    });
  }

  @AfterEach
  public void tearDown() throws Exception {
    harness.close();
  }

  @Test
  public void callReachesTheHandlerAndReturnsItsResponse() {
    StringValue resp = harness.await(client, e -> e.network().call(NodeId.of("server"), ECHO, StringValue.of("hi"), 5 * SECOND_NS));
    assertEquals("client:hi", resp.getValue());
  }

  @Test
  public void unknownMethodIsDefinitelyUnavailable() {
    IoFailure f = assertThrows(IoFailure.class,
        () -> harness.await(client, e -> e.network().call(NodeId.of("server"), MISSING, Int64Value.of(1), 5 * SECOND_NS)));
    assertEquals(IoFailure.Kind.UNAVAILABLE, f.kind());
    assertFalse(f.indefinite());
  }

  @Test
  public void unknownNodeIsDefinitelyUnavailable() {
    IoFailure f = assertThrows(IoFailure.class,
        () -> harness.await(client, e -> e.network().call(NodeId.of("nobody"), ECHO, StringValue.of("x"), 5 * SECOND_NS)));
    assertEquals(IoFailure.Kind.UNAVAILABLE, f.kind());
    assertFalse(f.indefinite());
  }

  @Test
  public void silentHandlerTimesOutIndefinitely() {
    IoFailure f = assertThrows(IoFailure.class,
        () -> harness.await(client, e -> e.network().call(NodeId.of("server"), NEVER, Int64Value.of(1), SECOND_NS / 10)));
    assertEquals(IoFailure.Kind.TIMEOUT, f.kind());
    assertTrue(f.indefinite());
  }

  @Test
  public void failedHandlerIsAnIndefiniteServerError() {
    IoFailure f = assertThrows(IoFailure.class,
        () -> harness.await(client, e -> e.network().call(NodeId.of("server"), BROKEN, Int64Value.of(1), 5 * SECOND_NS)));
    assertEquals(IoFailure.Kind.SERVER_ERROR, f.kind());
    assertTrue(f.indefinite());
  }
}
