package io.s2j.server;

import io.s2j.runtime.real.SharedObjectStore;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

      Distributed cell (docs/deploy.md): one role per process, metadata in etcd, records in S3.
        --role ROLE            frontend|channel|cachey|cop|bgtask|all (env S2J_ROLE; default all:
                               the whole cell in this process, as without the flag)
        --etcd URL[,URL...]    the etcd cluster's client URLs (env S2J_ETCD); needed by every role
                               but all, where it moves the metadata into etcd
        --node ID              this process's node id, unique in the cell (env S2J_NODE); a channel
                               process runs the channel of this id unless --channel says otherwise
        --zone Z               its zone label; cachey nodes in the frontend's zone are preferred
                               (env S2J_ZONE; default "local")
        --listen HOST:PORT     where the cell's RPC network listens (env S2J_LISTEN; default
                               0.0.0.0:0, any free port; announced in etcd)
        --advertise HOST       the host others reach this process at (default: the listen host,
                               or this machine's address when listening on every interface)
        --cell NAME            the cell's name; its etcd keys are under /s2j/NAME/ (default s2j)
        --endpoint URL         the S3 endpoint (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS)
        --spare                (channel) an idle spare host the cop hands a dead channel to
        --channel ID           (channel) the channel id to run (default: the node id)
        --min-channels N       (frontend, cop, bgtask) wait until N channels are registered (default 1)
        --lease-ttl-s N        TTL of this process's etcd lease (default 2)
        --cop-lease-ms N       (cop) a standby takes over after the acting cop's lease stood
                               still this long (default 5000)
        --channel-dead-after-ms N  (cop) hand a channel to a spare when none of its hosts served
                               it this long (default 5000)
        A role process exits with status 75 when its etcd lease is lost or its channel was taken
        over by another host: restart it. A restarted channel process takes its channel back, or
        stands by while a live spare serves it and takes it over once that spare is gone.

      Without --local-root or --bucket everything is kept in memory and lost on exit. With either,
      records and metadata (basins, streams, configs, tails, tokens) are durable in that store.
      """;

  /** Exit status of a role process that must be restarted (its lease was lost, its channel taken over). */
  static final int EXIT_RESTART = 75;

  public static void main(String[] args) throws Exception {
    ServerConfig config;
    RoleProcess.Options roles;
    try {
      List<String> rest = new ArrayList<>();
      roles = parseRole(args, System.getenv(), rest);
      config = parse(rest.toArray(String[]::new), System.getenv());
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
    if (roles.role() != RoleProcess.Role.ALL) {
      RoleProcess process = RoleProcess.start(roles, config);
      Runtime.getRuntime().addShutdownHook(new Thread(process::close, "s2j-shutdown"));
      String why = process.fatal().get();
      org.slf4j.LoggerFactory.getLogger(ServerMain.class).error("stopping ({} must be restarted): {}", roles.role().label(), why);
      System.exit(EXIT_RESTART);
      return;
    }
    Server server;
    if (!roles.etcd().isEmpty()) {
      SharedObjectStore store = roles.endpoint() != null ? RoleProcess.objectStore(config.storage(), roles.endpoint())
          : Server.objectStore(config.storage());
      server = Server.start(config, store, RoleProcess.etcdMetadata(roles));
    } else if (roles.endpoint() != null) {
      server = Server.start(config, RoleProcess.objectStore(config.storage(), roles.endpoint()));
    } else {
      server = Server.start(config);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "s2j-shutdown"));
    server.awaitClose();
  }

  /**
   * The role flags (env S2J_ROLE, S2J_ETCD, S2J_NODE, S2J_ZONE, S2J_LISTEN under them); the other
   * arguments go to {@code rest}, for {@link #parse}.
   */
  static RoleProcess.Options parseRole(String[] args, Map<String, String> env, List<String> rest) {
    String role = env.get("S2J_ROLE");
    String etcd = env.get("S2J_ETCD");
    String node = env.get("S2J_NODE");
    String zone = env.get("S2J_ZONE");
    String listen = env.get("S2J_LISTEN");
    String advertise = null;
    String cell = null;
    String endpoint = null;
    boolean spare = false;
    String channel = null;
    String minChannels = null;
    String ttl = null;
    String copLease = null;
    String deadAfter = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--spare")) {
        spare = true;
        continue;
      }
      boolean ours = switch (a) {
        case "--role", "--etcd", "--node", "--zone", "--listen", "--advertise", "--cell", "--endpoint", "--channel",
            "--min-channels", "--lease-ttl-s", "--cop-lease-ms", "--channel-dead-after-ms" -> true;
        default -> false;
      };
      if (!ours) {
        rest.add(a);
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value: " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--role" -> role = v;
        case "--etcd" -> etcd = v;
        case "--node" -> node = v;
        case "--zone" -> zone = v;
        case "--listen" -> listen = v;
        case "--advertise" -> advertise = v;
        case "--cell" -> cell = v;
        case "--endpoint" -> endpoint = v;
        case "--channel" -> channel = v;
        case "--min-channels" -> minChannels = v;
        case "--lease-ttl-s" -> ttl = v;
        case "--cop-lease-ms" -> copLease = v;
        default -> deadAfter = v;
      }
    }
    List<URI> endpoints = new ArrayList<>();
    if (blank(etcd) != null) {
      for (String u : etcd.split(",")) {
        if (!u.isBlank()) {
          try {
            endpoints.add(new URI(u.trim()));
          } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--etcd: not a URL: " + u);
          }
        }
      }
    }
    java.net.InetSocketAddress bind;
    if (blank(listen) == null) {
      bind = new java.net.InetSocketAddress(0);
    } else {
      int colon = listen.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("--listen expects HOST:PORT, got `" + listen + "`");
      }
      bind = new java.net.InetSocketAddress(listen.substring(0, colon), (int) number(listen.substring(colon + 1), "--listen", 0));
    }
    URI s3 = null;
    if (blank(endpoint) != null) {
      s3 = URI.create(endpoint.trim());
    }
    return new RoleProcess.Options(blank(role) == null ? RoleProcess.Role.ALL : RoleProcess.Role.parse(role), endpoints,
        blank(node), blank(zone) == null ? "local" : zone.trim(), bind, blank(advertise), blank(cell) == null ? "s2j" : cell.trim(),
        s3, spare, blank(channel), (int) number(minChannels, "--min-channels", 1),
        number(ttl, "--lease-ttl-s", RoleProcess.Options.LEASE_TTL_SECONDS_DEFAULT), number(copLease, "--cop-lease-ms", 5_000),
        number(deadAfter, "--channel-dead-after-ms", 5_000));
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
