package io.s2j.server;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How an s2j server is started: where it listens, where it stores data, and its knobs.
 *
 * @param host the address to bind ({@code 0.0.0.0} for every interface)
 * @param port the port (0 = an ephemeral one, see {@link Server#port()})
 * @param storage where chunks and segments go
 * @param channels how many channels (write-ahead logs) the cell runs, 1 or more
 * @param flushIntervalMs a chunk is flushed at most this long after its first entry; null keeps the
 *     default of the storage's channel knobs (5 ms for memory and local disk, 50 ms for S3)
 * @param streamCacheMs how long the frontend may cache stream lookups (0 = look every stream up in
 *     metadata per call); a stream config change or deletion completes only after this long
 * @param bodyBytesMax the largest request body accepted (a 1 MiB batch in JSON base64 is ~1.4 MiB)
 * @param readSessionUnsentBytesMax what a read session may have written to a client that is not
 *     reading; beyond it the session ends with {@code 503 unavailable}
 * @param auth whether requests must carry an access token ({@code Authorization: Bearer}) whose
 *     scope permits them; off (the default, as s2-lite) allows every request and ignores tokens
 * @param adminToken the bootstrap token with every permission when {@code auth} is on; null makes
 *     the server draw one at startup and log it once
 */
public record ServerConfig(String host, int port, Storage storage, int channels, Long flushIntervalMs,
    long streamCacheMs, int bodyBytesMax, long readSessionUnsentBytesMax, boolean auth, String adminToken) {

  public static final int PORT_DEFAULT = 8080;
  public static final int CHANNELS_DEFAULT = 2;
  public static final long STREAM_CACHE_MS_DEFAULT = 0;
  public static final int BODY_BYTES_MAX_DEFAULT = 8 << 20;
  public static final long READ_SESSION_UNSENT_BYTES_MAX_DEFAULT = 64L << 20;

  public ServerConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(storage, "storage");
    if (port < 0 || port > 65535 || channels < 1 || (flushIntervalMs != null && flushIntervalMs < 1)
        || streamCacheMs < 0 || bodyBytesMax < 1 << 20 || readSessionUnsentBytesMax < 1 << 20
        || (adminToken != null && adminToken.isBlank())) {
      throw new IllegalArgumentException("invalid server config: " + this);
    }
  }

  /** Auth off (as before auth existed). */
  public ServerConfig(String host, int port, Storage storage, int channels, Long flushIntervalMs,
      long streamCacheMs, int bodyBytesMax, long readSessionUnsentBytesMax) {
    this(host, port, storage, channels, flushIntervalMs, streamCacheMs, bodyBytesMax, readSessionUnsentBytesMax, false, null);
  }

  /** Never prints the admin token. */
  @Override
  public String toString() {
    return "ServerConfig[host=" + host + ", port=" + port + ", storage=" + storage + ", channels=" + channels
        + ", flushIntervalMs=" + flushIntervalMs + ", streamCacheMs=" + streamCacheMs + ", bodyBytesMax=" + bodyBytesMax
        + ", readSessionUnsentBytesMax=" + readSessionUnsentBytesMax + ", auth=" + auth
        + ", adminToken=" + (adminToken == null ? "none" : "(set)") + "]";
  }

  /** In memory, on {@code port} of every interface, default knobs. */
  public static ServerConfig inMemory(int port) {
    return new ServerConfig("0.0.0.0", port, new Storage.Memory(), CHANNELS_DEFAULT, null, STREAM_CACHE_MS_DEFAULT,
        BODY_BYTES_MAX_DEFAULT, READ_SESSION_UNSENT_BYTES_MAX_DEFAULT);
  }

  public ServerConfig withStorage(Storage s) {
    return new ServerConfig(host, port, s, channels, flushIntervalMs, streamCacheMs, bodyBytesMax, readSessionUnsentBytesMax, auth, adminToken);
  }

  public ServerConfig withHost(String h) {
    return new ServerConfig(h, port, storage, channels, flushIntervalMs, streamCacheMs, bodyBytesMax, readSessionUnsentBytesMax, auth, adminToken);
  }

  public ServerConfig withReadSessionUnsentBytesMax(long bytes) {
    return new ServerConfig(host, port, storage, channels, flushIntervalMs, streamCacheMs, bodyBytesMax, bytes, auth, adminToken);
  }

  /** Auth on, with this bootstrap admin token (null: drawn at startup and logged once). */
  public ServerConfig withAuth(String adminToken) {
    return new ServerConfig(host, port, storage, channels, flushIntervalMs, streamCacheMs, bodyBytesMax, readSessionUnsentBytesMax, true, adminToken);
  }

  /** Where the cell's object store lives. */
  public sealed interface Storage {
    /** Lost when the process exits. */
    record Memory() implements Storage {
      @Override
      public String toString() {
        return "in-memory";
      }
    }

    /** A local directory. */
    record LocalDir(Path root) implements Storage {
      @Override
      public String toString() {
        return "local directory " + root.toAbsolutePath();
      }
    }

    /** An S3 bucket (credentials, region and endpoint from the AWS environment), under {@code prefix}. */
    record S3(String bucket, String prefix) implements Storage {
      @Override
      public String toString() {
        return "s3://" + bucket + "/" + prefix;
      }
    }
  }
}
