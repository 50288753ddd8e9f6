package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.s2j.runtime.Done;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.ETag;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectSummary;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A bucket on S3 (or an S3-compatible service) through the AWS SDK v2 async client: the object
 * store of real deployments. Every key is stored under {@code keyPrefix}, so several deployments
 * or test runs can share a bucket.
 *
 * <p>The SDK's retries are <em>disabled</em>: a retried conditional put whose first attempt was
 * applied but whose answer was lost would come back 412 and report a write of ours as someone
 * else's. Callers retry instead, knowing from {@link IoFailure#indefinite()} whether the attempt
 * may have been applied. Failures are mapped as the {@link io.s2j.runtime.objectstore.ObjectStore}
 * contract says: 412 (and 404 on If-Match) is {@code PreconditionFailed}; 409 is a definite
 * {@code CONFLICT}; 503 SlowDown and 429 are a definite {@code THROTTLED}; other 5xx are
 * {@code SERVER_ERROR}, indefinite for puts and deletes; other 4xx a definite {@code REJECTED}
 * (refused: missing bucket, bad credentials); a refused or unresolvable connection is a definite
 * {@code UNAVAILABLE}; SDK timeouts, resets and other I/O errors are an indefinite {@code TIMEOUT}.
 */
public final class S3ObjectStore implements SharedObjectStore {
  private static final Pattern CONTENT_RANGE_TOTAL = Pattern.compile("bytes (?:\\d+-\\d+|\\*)/(\\d+)");
  private static final int IO_THREADS = 2;
  private static final Pattern ACTUAL_OBJECT_SIZE = Pattern.compile("<ActualObjectSize>(\\d+)</ActualObjectSize>");

  /**
   * Where and how to reach the bucket. {@code endpoint} empty means AWS's own; path-style
   * addressing is what S3-compatible services at a custom endpoint usually need.
   */
  public record Settings(
      String bucket,
      String keyPrefix,
      Optional<URI> endpoint,
      Region region,
      AwsCredentialsProvider credentials,
      boolean forcePathStyle,
      Duration callTimeout,
      Duration connectTimeout) {
    public static final Duration CALL_TIMEOUT_DEFAULT = Duration.ofSeconds(30);
    public static final Duration CONNECT_TIMEOUT_DEFAULT = Duration.ofSeconds(5);

    public Settings {
      if (bucket == null || bucket.isEmpty()) {
        throw new IllegalArgumentException("bucket is empty");
      }
      Objects.requireNonNull(keyPrefix, "keyPrefix");
      if (keyPrefix.startsWith("/")) {
        throw new IllegalArgumentException("key prefix starts with '/': " + keyPrefix);
      }
      Objects.requireNonNull(endpoint, "endpoint");
      Objects.requireNonNull(region, "region");
      Objects.requireNonNull(credentials, "credentials");
      if (callTimeout.isNegative() || callTimeout.isZero() || connectTimeout.isNegative() || connectTimeout.isZero()) {
        throw new IllegalArgumentException("timeouts must be positive");
      }
    }

    /**
     * Settings found the way AWS tools find them: endpoint from {@code AWS_ENDPOINT_URL_S3} or
     * {@code AWS_ENDPOINT_URL} (forcing path-style when set), region from the SDK's default chain
     * ({@code AWS_REGION}, profile, instance metadata; us-east-1 if none), credentials from the
     * default chain.
     */
    public static Settings fromEnvironment(String bucket, String keyPrefix) {
      Optional<URI> endpoint = Optional.ofNullable(System.getenv("AWS_ENDPOINT_URL_S3"))
          .or(() -> Optional.ofNullable(System.getenv("AWS_ENDPOINT_URL")))
          .filter(s -> !s.isBlank())
          .map(URI::create);
      Region region;
      try {
        region = new DefaultAwsRegionProviderChain().getRegion();
      } catch (SdkException e) {
        region = Region.US_EAST_1;
      }
      return new Settings(bucket, keyPrefix, endpoint, region, DefaultCredentialsProvider.builder().build(),
          endpoint.isPresent(), CALL_TIMEOUT_DEFAULT, CONNECT_TIMEOUT_DEFAULT);
    }
  }

  private final Settings settings;
  private final EventLoopGroup ioGroup;
  private final S3AsyncClient client;

  public S3ObjectStore(Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
    // Our own I/O threads rather than the SDK's, so that close() need not sit out the SDK's
    // two-second graceful-shutdown quiet period.
    SdkEventLoopGroup sdkGroup = SdkEventLoopGroup.builder()
        .numberOfThreads(IO_THREADS)
        .threadFactory(new DefaultThreadFactory("s2j-s3-io", true))
        .build();
    this.ioGroup = sdkGroup.eventLoopGroup();
    S3AsyncClientBuilder builder = S3AsyncClient.builder()
        .httpClientBuilder(NettyNioAsyncHttpClient.builder()
            .eventLoopGroup(sdkGroup)
            .connectionTimeout(settings.connectTimeout())
            .readTimeout(settings.callTimeout())
            .writeTimeout(settings.callTimeout()))
        .region(settings.region())
        .credentialsProvider(settings.credentials())
        .forcePathStyle(settings.forcePathStyle())
        // The Netty client sends the body without waiting for "100 Continue", so the header only
        // confuses a server that answers early (a 412 of a conditional put): it then parses the
        // body as the next request and drops the pooled connection under the following one.
        .serviceConfiguration(c -> c.expectContinueEnabled(false))
        .overrideConfiguration(o -> o
            .retryStrategy(AwsRetryStrategy.doNotRetry())
            .apiCallTimeout(settings.callTimeout()));
    settings.endpoint().ifPresent(builder::endpointOverride);
    this.client = builder.build();
  }

  /** A store configured from the environment, as {@link Settings#fromEnvironment} describes. */
  public static S3ObjectStore fromEnvironment(String bucket, String keyPrefix) {
    return new S3ObjectStore(Settings.fromEnvironment(bucket, keyPrefix));
  }

  public Settings settings() {
    return settings;
  }

  @Override
  public CompletableFuture<GetResult> get(ObjectKey key, ByteRange range) {
    GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(settings.bucket()).key(s3Key(key));
    if (range != null) {
      req.range("bytes=" + range.offset() + "-" + range.lastInclusive());
    }
    CompletableFuture<GetResult> out = new CompletableFuture<>();
    client.getObject(req.build(), AsyncResponseTransformer.toBytes()).whenComplete((bytes, err) -> {
      if (err == null) {
        settle(out, () -> found(bytes.response(), bytes.asByteArrayUnsafe(), range));
        return;
      }
      Throwable cause = Hops.unwrap(err);
      int status = statusOf(cause);
      if (status == 404 && "NoSuchKey".equals(errorCodeOf(cause))) {
        out.complete(new GetResult.NotFound());
      } else if (status == 416) {
        rangeNotSatisfiable(key, (AwsServiceException) cause, out);
      } else {
        out.completeExceptionally(failure("get " + key, cause, false));
      }
    });
    return out;
  }

  @Override
  public CompletableFuture<PutResult> put(ObjectKey key, ByteString data, PutCondition condition) {
    PutObjectRequest.Builder req = PutObjectRequest.builder()
        .bucket(settings.bucket())
        .key(s3Key(key))
        .contentLength((long) data.size());
    switch (condition) {
      case PutCondition.None n -> {}
      case PutCondition.IfAbsent a -> req.ifNoneMatch("*");
      case PutCondition.IfMatch m -> req.ifMatch(m.etag().toWire());
    }
    CompletableFuture<PutResult> out = new CompletableFuture<>();
    client.putObject(req.build(), AsyncRequestBody.fromByteBufferUnsafe(data.asReadOnlyByteBuffer()))
        .whenComplete((resp, err) -> {
          if (err == null) {
            settle(out, () -> new PutResult.Written(ETag.fromWire(resp.eTag())));
            return;
          }
          Throwable cause = Hops.unwrap(err);
          int status = statusOf(cause);
          if (status == 412 || (status == 404 && condition instanceof PutCondition.IfMatch)) {
            out.complete(new PutResult.PreconditionFailed());
          } else {
            out.completeExceptionally(failure("put " + key, cause, true));
          }
        });
    return out;
  }

  @Override
  public CompletableFuture<Done> delete(ObjectKey key) {
    CompletableFuture<Done> out = new CompletableFuture<>();
    client.deleteObject(DeleteObjectRequest.builder().bucket(settings.bucket()).key(s3Key(key)).build())
        .whenComplete((resp, err) -> {
          if (err == null) {
            out.complete(Done.DONE);
            return;
          }
          Throwable cause = Hops.unwrap(err);
          if (statusOf(cause) == 404 && "NoSuchKey".equals(errorCodeOf(cause))) {
            out.complete(Done.DONE);
          } else {
            out.completeExceptionally(failure("delete " + key, cause, true));
          }
        });
    return out;
  }

  @Override
  public CompletableFuture<ListPage> list(String prefix, ObjectKey startAfter, int limit) {
    ListObjectsV2Request.Builder req = ListObjectsV2Request.builder()
        .bucket(settings.bucket())
        .prefix(settings.keyPrefix() + prefix)
        .maxKeys(limit);
    if (startAfter != null) {
      req.startAfter(s3Key(startAfter));
    }
    CompletableFuture<ListPage> out = new CompletableFuture<>();
    client.listObjectsV2(req.build()).whenComplete((resp, err) -> {
      if (err != null) {
        out.completeExceptionally(failure("list " + prefix, Hops.unwrap(err), false));
        return;
      }
      settle(out, () -> {
        List<ObjectSummary> objects = new ArrayList<>(resp.contents().size());
        for (S3Object o : resp.contents()) {
          ObjectKey k = ObjectKey.of(o.key().substring(settings.keyPrefix().length()));
          objects.add(new ObjectSummary(k, o.size(), ETag.fromWire(o.eTag())));
        }
        return new ListPage(objects, Boolean.TRUE.equals(resp.isTruncated()));
      });
    });
    return out;
  }

  @Override
  public void close() {
    client.close();
    ioGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
  }

  private String s3Key(ObjectKey key) {
    return settings.keyPrefix() + key.value();
  }

  private static GetResult found(GetObjectResponse resp, byte[] bytes, ByteRange range) {
    ETag etag = ETag.fromWire(resp.eTag());
    String contentRange = resp.contentRange();
    if (contentRange != null) {
      Matcher m = CONTENT_RANGE_TOTAL.matcher(contentRange);
      if (m.matches()) {
        return new GetResult.Found(UnsafeByteOperations.unsafeWrap(bytes), etag, Long.parseLong(m.group(1)));
      }
    }
    // No Content-Range: the server sent the whole object, even if a range was asked for.
    return InMemoryObjectStore.slice(UnsafeByteOperations.unsafeWrap(bytes), etag, range);
  }

  /** Completes a 416 with the object's size: from the error itself if it says, else from a HEAD. */
  private void rangeNotSatisfiable(ObjectKey key, AwsServiceException e, CompletableFuture<GetResult> out) {
    Optional<String> header = e.awsErrorDetails() == null || e.awsErrorDetails().sdkHttpResponse() == null
        ? Optional.empty()
        : e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("Content-Range");
    if (header.isPresent()) {
      Matcher m = CONTENT_RANGE_TOTAL.matcher(header.get());
      if (m.matches()) {
        out.complete(new GetResult.RangeNotSatisfiable(Long.parseLong(m.group(1))));
        return;
      }
    }
    if (e.awsErrorDetails() != null && e.awsErrorDetails().rawResponse() != null) {
      Matcher m = ACTUAL_OBJECT_SIZE.matcher(e.awsErrorDetails().rawResponse().asString(StandardCharsets.UTF_8));
      if (m.find()) {
        out.complete(new GetResult.RangeNotSatisfiable(Long.parseLong(m.group(1))));
        return;
      }
    }
    client.headObject(HeadObjectRequest.builder().bucket(settings.bucket()).key(s3Key(key)).build())
        .whenComplete((head, err) -> {
          if (err == null) {
            out.complete(new GetResult.RangeNotSatisfiable(head.contentLength()));
          } else if (statusOf(Hops.unwrap(err)) == 404) {
            out.complete(new GetResult.NotFound());
          } else {
            out.completeExceptionally(failure("head " + key, Hops.unwrap(err), false));
          }
        });
  }

  private static <T> void settle(CompletableFuture<T> out, Supplier<T> result) {
    try {
      out.complete(result.get());
    } catch (RuntimeException e) {
      out.completeExceptionally(e);
    }
  }

  private static int statusOf(Throwable t) {
    return t instanceof AwsServiceException e ? e.statusCode() : -1;
  }

  private static String errorCodeOf(Throwable t) {
    return t instanceof AwsServiceException e && e.awsErrorDetails() != null ? e.awsErrorDetails().errorCode() : null;
  }

  /** The {@link IoFailure} for an SDK failure of an operation; {@code write} for puts and deletes. */
  static IoFailure failure(String what, Throwable t, boolean write) {
    String message = what + ": " + t;
    if (t instanceof AwsServiceException) {
      int status = statusOf(t);
      String code = errorCodeOf(t);
      if (status == 409) {
        return IoFailure.definite(IoFailure.Kind.CONFLICT, message);
      }
      if (status == 429 || (status == 503 && "SlowDown".equals(code))) {
        return IoFailure.definite(IoFailure.Kind.THROTTLED, message);
      }
      if (status >= 500) {
        return write
            ? IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, message)
            : IoFailure.definite(IoFailure.Kind.SERVER_ERROR, message);
      }
      // Any other 4xx (400, 403, NoSuchBucket): refused, not applied, and a retry will not help.
      return IoFailure.definite(IoFailure.Kind.REJECTED, message);
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ConnectException || c instanceof UnknownHostException) {
        return IoFailure.definite(IoFailure.Kind.UNAVAILABLE, message);
      }
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ApiCallTimeoutException || c instanceof ApiCallAttemptTimeoutException
          || c instanceof TimeoutException || c instanceof IOException) {
        return IoFailure.timeout(message);
      }
    }
    // Anything else (a client-side fault we cannot place): a write may still have been sent.
    return write
        ? IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, message)
        : IoFailure.definite(IoFailure.Kind.SERVER_ERROR, message);
  }
}
