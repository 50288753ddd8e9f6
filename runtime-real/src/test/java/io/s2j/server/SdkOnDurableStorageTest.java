package io.s2j.server;

import io.s2j.runtime.real.S3ObjectStore;
import io.s2j.runtime.real.S3ProxyProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The official TypeScript SDK's scenario ({@link SdkCompatibilityTest}) against a server whose
 * records and metadata are durable: on a local directory ({@code --local-root}) and in a bucket on
 * s3proxy ({@code --bucket}), with the channel knobs and durable metadata store each mode uses.
 */
class SdkOnDurableStorageTest {

  @Test
  void sdkScenarioOnLocalRoot(@TempDir Path root) throws Exception {
    SdkCompatibilityTest.assumeSdk();
    ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withStorage(new ServerConfig.Storage.LocalDir(root));
    try (Server server = Server.start(config)) {
      SdkCompatibilityTest.runSdkSuite("http://127.0.0.1:" + server.port(), "--local-root");
      checkNoTaskFailed(server);
    }
  }

  @Test
  void sdkScenarioOnS3Bucket() throws Exception {
    SdkCompatibilityTest.assumeSdk();
    try (S3ProxyProcess proxy = S3ProxyProcess.start("filesystem")) {
      proxy.createBucket("s2j-sdk");
      S3ObjectStore store = new S3ObjectStore(new S3ObjectStore.Settings("s2j-sdk", "cell/", Optional.of(proxy.endpoint()),
          Region.US_EAST_1, StaticCredentialsProvider.create(AwsBasicCredentials.create(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)),
          true, Duration.ofSeconds(30), Duration.ofSeconds(5)));
      ServerConfig config = ServerConfig.inMemory(0).withHost("127.0.0.1").withStorage(new ServerConfig.Storage.S3("s2j-sdk", "cell/"));
      try (Server server = Server.start(config, store)) {
        SdkCompatibilityTest.runSdkSuite("http://127.0.0.1:" + server.port(), "--bucket on s3proxy");
        checkNoTaskFailed(server);
      }
    }
  }

  private static void checkNoTaskFailed(Server server) {
    if (server.firstTaskFailure().isPresent()) {
      throw new AssertionError("a task threw on a node", server.firstTaskFailure().get());
    }
  }
}
