package io.s2j.runtime.real;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * An s3proxy server in a child process, on a free loopback port, storing into a fresh directory:
 * a real HTTP S3 endpoint for the S3 contract suite without any cloud account. Its own jar (from
 * {@code target/s3proxy}) keeps its Jetty and SDK versions off our classpath.
 */
public final class S3ProxyProcess implements AutoCloseable {
  public static final String IDENTITY = "local-identity";
  public static final String CREDENTIAL = "local-credential";
  private static final Path JAR = Path.of("target", "s3proxy", "s3proxy.jar");
  private static final long START_TIMEOUT_MILLIS = 60_000;

  private final Process process;
  private final URI endpoint;
  private final Path log;

  private S3ProxyProcess(Process process, URI endpoint, Path log) {
    this.process = process;
    this.endpoint = endpoint;
    this.log = log;
  }

  /** Starts s3proxy with the jclouds-style {@code provider} (such as {@code filesystem}) and waits for it. */
  public static S3ProxyProcess start(String provider) throws IOException, InterruptedException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run through Maven, which copies it");
    }
    Path work = Files.createDirectories(Path.of("target", "s3proxy"));
    Path data = Files.createTempDirectory(work, "data-" + provider + "-");
    int port = freePort();
    URI endpoint = URI.create("http://127.0.0.1:" + port);
    Path properties = data.resolveSibling(data.getFileName() + ".properties");
    Files.writeString(properties, String.join("\n",
        "s3proxy.endpoint=" + endpoint,
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + IDENTITY,
        "s3proxy.credential=" + CREDENTIAL,
        "jclouds.provider=" + provider,
        "jclouds.filesystem.basedir=" + data.toAbsolutePath(),
        ""), StandardCharsets.UTF_8);
    Path log = work.resolve("s3proxy.log");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process process = new ProcessBuilder(List.of(java, "-jar", JAR.toString(), "--properties", properties.toString()))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    S3ProxyProcess proxy = new S3ProxyProcess(process, endpoint, log);
    try {
      proxy.awaitPort(port);
    } catch (IOException | InterruptedException | RuntimeException e) {
      proxy.close();
      throw e;
    }
    return proxy;
  }

  public URI endpoint() {
    return endpoint;
  }

  /** Creates {@code bucket} on this s3proxy. */
  public void createBucket(String bucket) {
    try (S3AsyncClient admin = S3AsyncClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, CREDENTIAL)))
        .forcePathStyle(true).build()) {
      admin.createBucket(b -> b.bucket(bucket)).join();
    }
  }

  /**
   * The AWS environment under which a child process reaches this s3proxy through
   * {@code S3ObjectStore.Settings.fromEnvironment} (endpoint, region, static credentials; checksums
   * only when required, as the surefire configuration explains).
   */
  public Map<String, String> awsEnvironment() {
    return Map.of(
        "AWS_ENDPOINT_URL_S3", endpoint.toString(),
        "AWS_REGION", "us-east-1",
        "AWS_ACCESS_KEY_ID", IDENTITY,
        "AWS_SECRET_ACCESS_KEY", CREDENTIAL,
        "AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED");
  }

  private void awaitPort(int port) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("s3proxy exited with " + process.exitValue() + "; see " + log.toAbsolutePath());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return;
      } catch (IOException e) {
        if (System.nanoTime() - deadline > 0) {
          throw new IOException("s3proxy did not open port " + port + "; see " + log.toAbsolutePath(), e);
        }
        Thread.sleep(100);
      }
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
