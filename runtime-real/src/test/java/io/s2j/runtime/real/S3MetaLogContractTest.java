package io.s2j.runtime.real;

import io.s2j.runtime.contract.MetadataStoreContract;
import io.s2j.runtime.contract.SeamHarness;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** The metadata store contract on {@link ObjectStoreMetadataStore} over {@link S3ObjectStore} against s3proxy. */
class S3MetaLogContractTest extends MetadataStoreContract {
  static final String BUCKET = "s2j-meta-contract";

  private static S3ProxyProcess proxy;
  private static int harnesses;

  @BeforeAll
  static void startS3Proxy() throws Exception {
    proxy = S3ProxyProcess.start(S3ObjectStoreContractTest.PROVIDER);
    try (S3AsyncClient admin = S3AsyncClient.builder()
        .endpointOverride(proxy.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(S3ObjectStoreContractTest.credentials())
        .forcePathStyle(true)
        .build()) {
      admin.createBucket(b -> b.bucket(BUCKET)).join();
    }
  }

  @AfterAll
  static void stopS3Proxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  static S3ObjectStore newStore(String prefix) {
    return new S3ObjectStore(new S3ObjectStore.Settings(
        BUCKET, prefix, Optional.of(proxy.endpoint()), Region.US_EAST_1,
        S3ObjectStoreContractTest.credentials(), true, Duration.ofSeconds(30), Duration.ofSeconds(5)));
  }

  @Override
  protected SeamHarness newHarness() throws Exception {
    return new MetaStoreHarness(newStore("run-" + (++harnesses) + "/"));
  }
}
