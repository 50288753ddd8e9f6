package io.s2j.runtime.real;

import io.s2j.runtime.contract.ObjectStoreContract;
import io.s2j.runtime.contract.SeamHarness;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The object store contract on {@link S3ObjectStore} against s3proxy 4.1.0 in a child process,
 * with its {@code filesystem} backend (override with {@code -Ds3proxy.provider=transient}).
 *
 * <p>s3proxy's nio2 backends ({@code filesystem}, {@code transient}) make {@code If-None-Match: *}
 * atomic (they publish with link(2)) but only emulate {@code If-Match} with a metadata read followed
 * by an unconditional write, and answer its 412 before reading the body (so the connection is often
 * reset under the client). This class therefore disables exactly one contract test, the If-Match
 * race, with that reason; it must pass against real S3. The pom runs this suite with
 * {@code AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED}: with the SDK's aws-chunked uploads, those
 * early answers reset connections often enough to fail other tests at random.
 */
class S3ObjectStoreContractTest extends ObjectStoreContract {
  static final String BUCKET = "s2j-contract";
  static final String PROVIDER = System.getProperty("s3proxy.provider", "filesystem");

  private static S3ProxyProcess proxy;
  private static int harnesses;

  @BeforeAll
  static void startS3Proxy() throws Exception {
    proxy = S3ProxyProcess.start(PROVIDER);
    try (S3AsyncClient admin = S3AsyncClient.builder()
        .endpointOverride(proxy.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials())
        .forcePathStyle(true)
        .build()) {
      admin.createBucket(b -> b.bucket(BUCKET)).join();
    }
  }

  @AfterAll
  static void stopS3Proxy() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
  }

  static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(
        AwsBasicCredentials.create(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL));
  }

  @Override
  @org.junit.jupiter.api.Test
  @Disabled("s3proxy 4.1.0 emulates If-Match on its filesystem/transient backends as HEAD-then-PUT, so "
      + "concurrent swaps of one version can all win (seen: up to 8 of 8); it also answers the 412 "
      + "before reading the body, which resets pooled connections. Real S3 compares and swaps.")
  public void concurrentSwapsOfOneVersionHaveExactlyOneWinner() {}

  @Override
  protected SeamHarness newHarness() {
    // A key prefix per test keeps the tests apart even though they share the bucket.
    S3ObjectStore.Settings settings = new S3ObjectStore.Settings(
        BUCKET, "run-" + (++harnesses) + "/", Optional.of(proxy.endpoint()), Region.US_EAST_1, credentials(),
        true, Duration.ofSeconds(30), Duration.ofSeconds(5));
    return new RealHarness(new S3ObjectStore(settings));
  }
}
