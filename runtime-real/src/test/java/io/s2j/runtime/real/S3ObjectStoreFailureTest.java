package io.s2j.runtime.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Env;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.PutCondition;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** How {@link S3ObjectStore} reports what goes wrong on the way to S3, as {@link IoFailure}s. */
class S3ObjectStoreFailureTest {
  private static final ObjectKey KEY = ObjectKey.of("k");

  private static S3ObjectStore storeAt(int port, Duration callTimeout) {
    return new S3ObjectStore(new S3ObjectStore.Settings(
        "bucket", "p/", Optional.of(URI.create("http://127.0.0.1:" + port)), Region.US_EAST_1,
        StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "secret")), true,
        callTimeout, Duration.ofSeconds(2)));
  }

  @Test
  void refusedConnectionIsDefinitelyUnavailable() throws Exception {
    // A privileged port nobody listens on: a just-freed ephemeral port could be handed to the
    // client's own socket, which then connects to itself and hangs instead of being refused.
    int port = 1;
    try (Socket probe = new Socket()) {
      probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      assumeTrue(false, "something listens on port " + port);
    } catch (IOException expected) {
      // Refused, as needed.
    }
    // The SDK's Netty client occasionally loses a refused connect and only reports it at the call
    // timeout (seen about once in 25 calls, with its own event loop group too), which we must
    // report as the indefinite TIMEOUT it looks like. So: every failure is one of the two, and
    // the refusal is recognised as a definite UNAVAILABLE when the SDK reports it.
    int unavailable = 0;
    try (RealHarness h = new RealHarness(storeAt(port, Duration.ofSeconds(2)))) {
      Env env = h.env("client");
      for (int i = 0; i < 4; i++) {
        IoFailure put = assertThrows(IoFailure.class,
            () -> h.await(env, e -> e.objectStore().put(KEY, ByteString.copyFromUtf8("x"), PutCondition.IF_ABSENT)));
        IoFailure get = assertThrows(IoFailure.class, () -> h.await(env, e -> e.objectStore().get(KEY)));
        for (IoFailure f : List.of(put, get)) {
          if (f.kind() == IoFailure.Kind.UNAVAILABLE) {
            assertFalse(f.indefinite());
            unavailable++;
          } else {
            assertEquals(IoFailure.Kind.TIMEOUT, f.kind(), f.getMessage());
          }
        }
      }
    }
    assertTrue(unavailable >= 4, "refusals were reported as UNAVAILABLE only " + unavailable + " times of 8");
    IoFailure mapped = S3ObjectStore.failure("put",
        SdkClientException.create("Unable to execute HTTP request", new ConnectException("Connection refused")), true);
    assertEquals(IoFailure.Kind.UNAVAILABLE, mapped.kind());
    assertFalse(mapped.indefinite());
  }

  @Test
  void silentServerIsAnIndefiniteTimeout() throws Exception {
    // The kernel accepts connections into the backlog; nobody ever answers them.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        RealHarness h = new RealHarness(storeAt(silent.getLocalPort(), Duration.ofMillis(500)))) {
      Env env = h.env("client");
      IoFailure put = assertThrows(IoFailure.class,
          () -> h.await(env, e -> e.objectStore().put(KEY, ByteString.copyFromUtf8("x"), PutCondition.NONE)));
      assertEquals(IoFailure.Kind.TIMEOUT, put.kind(), put.getMessage());
      assertTrue(put.indefinite());
      IoFailure delete = assertThrows(IoFailure.class, () -> h.await(env, e -> e.objectStore().delete(KEY)));
      assertEquals(IoFailure.Kind.TIMEOUT, delete.kind(), delete.getMessage());
    }
  }

  private static S3Exception error(int status, String code) {
    return (S3Exception) S3Exception.builder()
        .statusCode(status)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code).build())
        .build();
  }

  @Test
  void serviceErrorsMapAsTheContractSays() {
    IoFailure slowDown = S3ObjectStore.failure("put", error(503, "SlowDown"), true);
    assertEquals(IoFailure.Kind.THROTTLED, slowDown.kind());
    assertFalse(slowDown.indefinite());

    IoFailure conflict = S3ObjectStore.failure("put", error(409, "ConditionalRequestConflict"), true);
    assertEquals(IoFailure.Kind.CONFLICT, conflict.kind());
    assertFalse(conflict.indefinite());

    IoFailure writeError = S3ObjectStore.failure("put", error(500, "InternalError"), true);
    assertEquals(IoFailure.Kind.SERVER_ERROR, writeError.kind());
    assertTrue(writeError.indefinite(), "a failed write may have been applied");

    IoFailure readError = S3ObjectStore.failure("get", error(500, "InternalError"), false);
    assertEquals(IoFailure.Kind.SERVER_ERROR, readError.kind());
    assertFalse(readError.indefinite());

    IoFailure denied = S3ObjectStore.failure("put", error(403, "AccessDenied"), true);
    assertEquals(IoFailure.Kind.REJECTED, denied.kind());
    assertFalse(denied.indefinite());
  }

  @Test
  void settingsFromTheEnvironmentFollowTheAwsVariables() {
    S3ObjectStore.Settings s = S3ObjectStore.Settings.fromEnvironment("bucket", "prefix/");
    String endpoint = Optional.ofNullable(System.getenv("AWS_ENDPOINT_URL_S3"))
        .orElse(System.getenv("AWS_ENDPOINT_URL"));
    assertEquals(Optional.ofNullable(endpoint).filter(e -> !e.isBlank()).map(URI::create), s.endpoint());
    assertEquals(s.endpoint().isPresent(), s.forcePathStyle(), "path-style exactly when an endpoint is set");
    if (System.getenv("AWS_REGION") != null) {
      assertEquals(Region.of(System.getenv("AWS_REGION")), s.region());
    }
    assertEquals("bucket", s.bucket());
    assertEquals("prefix/", s.keyPrefix());
  }
}
