package io.s2j.server;

import java.nio.file.Path;
import java.util.Map;

/**
 * {@code java -jar s2j-server.jar [options]}: starts an s2j server and runs until killed.
 *
 * <p>Every option can also be given as an environment variable (the flag wins); see {@link #USAGE}.
 */
public final class ServerMain {
  private ServerMain() {}

  static final String USAGE = """
      usage: java -jar s2j-server.jar [options]

        --port N               port for HTTP/1.1 and h2c (env S2J_PORT; default 8080)
        --host ADDR            address to bind (env S2J_HOST; default 0.0.0.0)
        --local-root DIR       store data in a local directory (env S2J_LOCAL_ROOT)
        --bucket NAME          store data in an S3 bucket (env S2J_BUCKET); credentials, region
                               and endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) from the AWS environment
        --path PREFIX          key prefix inside the bucket (env S2J_PATH; default empty)
        --channels N           channels (write-ahead logs) in the cell (env S2J_CHANNELS; default 2)
        --flush-interval-ms N  a chunk is flushed at most N ms after its first record
                               (env S2J_FLUSH_INTERVAL_MS; default 5 in memory/local dir, 50 on S3)
        --stream-cache-ms N    how long stream lookups are cached (env S2J_STREAM_CACHE_MS; default 0)
        --auth                 require access tokens (env S2J_AUTH=true; default off: like s2-lite,
                               every request is allowed and Authorization headers are ignored)
        --admin-token TOKEN    the bootstrap token with every permission (env S2J_ADMIN_TOKEN); with
                               --auth and no token, one is drawn at startup and logged once
        --help                 this text

      Without --local-root or --bucket everything is kept in memory and lost on exit. With either,
      records and metadata (basins, streams, configs, tails, tokens) are durable in that store.
      """;

  public static void main(String[] args) {
    ServerConfig config;
    try {
      config = parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("s2j-server: " + e.getMessage());
      System.err.print(USAGE);
      System.exit(2);
      return;
    }
    if (config == null) {
      System.out.print(USAGE);
      return;
    }
    Server server = Server.start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "s2j-shutdown"));
    server.awaitClose();
  }

  /** The config from flags over environment variables; null if help was asked for. */
  static ServerConfig parse(String[] args, Map<String, String> env) {
    String port = env.get("S2J_PORT");
    String host = env.get("S2J_HOST");
    String localRoot = env.get("S2J_LOCAL_ROOT");
    String bucket = env.get("S2J_BUCKET");
    String path = env.get("S2J_PATH");
    String channels = env.get("S2J_CHANNELS");
    String flush = env.get("S2J_FLUSH_INTERVAL_MS");
    String cache = env.get("S2J_STREAM_CACHE_MS");
    String authText = env.get("S2J_AUTH");
    String adminToken = env.get("S2J_ADMIN_TOKEN");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        return null;
      }
      if (a.equals("--auth")) {
        authText = "true";
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("unknown option or missing value: " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--port" -> port = v;
        case "--host" -> host = v;
        case "--local-root" -> localRoot = v;
        case "--bucket" -> bucket = v;
        case "--path" -> path = v;
        case "--channels" -> channels = v;
        case "--flush-interval-ms" -> flush = v;
        case "--stream-cache-ms" -> cache = v;
        case "--admin-token" -> adminToken = v;
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (blank(localRoot) == null && blank(bucket) == null && blank(path) != null) {
      throw new IllegalArgumentException("--path needs --bucket");
    }
    ServerConfig.Storage storage;
    if (blank(localRoot) != null && blank(bucket) != null) {
      throw new IllegalArgumentException("give --local-root or --bucket, not both");
    } else if (blank(localRoot) != null) {
      storage = new ServerConfig.Storage.LocalDir(Path.of(localRoot));
    } else if (blank(bucket) != null) {
      storage = new ServerConfig.Storage.S3(bucket, path == null ? "" : path);
    } else {
      storage = new ServerConfig.Storage.Memory();
    }
    return new ServerConfig(
        blank(host) == null ? "0.0.0.0" : host,
        (int) number(port, "--port", ServerConfig.PORT_DEFAULT),
        storage,
        (int) number(channels, "--channels", ServerConfig.CHANNELS_DEFAULT),
        blank(flush) == null ? null : number(flush, "--flush-interval-ms", 0),
        number(cache, "--stream-cache-ms", ServerConfig.STREAM_CACHE_MS_DEFAULT),
        ServerConfig.BODY_BYTES_MAX_DEFAULT,
        ServerConfig.READ_SESSION_UNSENT_BYTES_MAX_DEFAULT,
        flag(authText, "S2J_AUTH"),
        blank(adminToken) == null ? null : adminToken.trim());
  }

  private static boolean flag(String s, String what) {
    if (blank(s) == null) {
      return false;
    }
    return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw new IllegalArgumentException(what + " expects true or false, got `" + s + "`");
    };
  }

  private static String blank(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static long number(String s, String what, long dflt) {
    if (blank(s) == null) {
      return dflt;
    }
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " expects a number, got `" + s + "`");
    }
  }
}
