package io.s2j.server;

import io.netty.handler.codec.http.HttpMethod;
import java.util.List;

/**
 * S2's operations (openapi {@code Operation}, kebab-case on the wire): what an access token's
 * scope grants, what each endpoint needs, and the label of the request counters.
 *
 * <p>Groups (level and read/write) follow S2's SDK test matrix for access tokens: account read =
 * list-basins, get-basin-config, list-access-tokens, account-metrics; account write =
 * create/delete/reconfigure-basin, issue/revoke-access-token; basin read = list-streams,
 * get-stream-config, basin-metrics; basin write = create/delete/reconfigure-stream; stream read =
 * check-tail, read, stream-metrics; stream write = append, trim, fence.
 */
enum Operation {
  LIST_BASINS("list-basins", Level.ACCOUNT, false),
  CREATE_BASIN("create-basin", Level.ACCOUNT, true),
  DELETE_BASIN("delete-basin", Level.ACCOUNT, true),
  RECONFIGURE_BASIN("reconfigure-basin", Level.ACCOUNT, true),
  GET_BASIN_CONFIG("get-basin-config", Level.ACCOUNT, false),
  ISSUE_ACCESS_TOKEN("issue-access-token", Level.ACCOUNT, true),
  REVOKE_ACCESS_TOKEN("revoke-access-token", Level.ACCOUNT, true),
  LIST_ACCESS_TOKENS("list-access-tokens", Level.ACCOUNT, false),
  LIST_STREAMS("list-streams", Level.BASIN, false),
  CREATE_STREAM("create-stream", Level.BASIN, true),
  DELETE_STREAM("delete-stream", Level.BASIN, true),
  GET_STREAM_CONFIG("get-stream-config", Level.BASIN, false),
  RECONFIGURE_STREAM("reconfigure-stream", Level.BASIN, true),
  CHECK_TAIL("check-tail", Level.STREAM, false),
  APPEND("append", Level.STREAM, true),
  READ("read", Level.STREAM, false),
  TRIM("trim", Level.STREAM, true),
  FENCE("fence", Level.STREAM, true),
  ACCOUNT_METRICS("account-metrics", Level.ACCOUNT, false),
  BASIN_METRICS("basin-metrics", Level.BASIN, false),
  STREAM_METRICS("stream-metrics", Level.STREAM, false);

  /** The level of an operation group. */
  enum Level { ACCOUNT, BASIN, STREAM }

  final String wireName;
  final Level level;
  final boolean write;

  Operation(String wireName, Level level, boolean write) {
    this.wireName = wireName;
    this.level = level;
    this.write = write;
  }

  /** The operation named {@code wireName}, or null. */
  static Operation parse(String wireName) {
    for (Operation o : values()) {
      if (o.wireName.equals(wireName)) {
        return o;
      }
    }
    return null;
  }

  /**
   * The operation a request asks for, from its method and path alone (before any validation), or
   * null when the path is not an S2 operation (health, Prometheus, locations, unknown paths,
   * wrong methods). The ensure PUTs are labelled by their create operation; their authorization
   * also needs the reconfigure one (see {@link ApiHandler}).
   */
  static Operation of(HttpMethod m, List<String> segments) {
    if (segments.size() < 2 || !segments.get(0).equals("v1")) {
      return null;
    }
    int n = segments.size();
    return switch (segments.get(1)) {
      case "basins" -> {
        if (n == 2) {
          yield m.equals(HttpMethod.GET) ? LIST_BASINS : m.equals(HttpMethod.POST) ? CREATE_BASIN : null;
        }
        if (n == 3) {
          yield m.equals(HttpMethod.GET) ? GET_BASIN_CONFIG
              : m.equals(HttpMethod.PUT) ? CREATE_BASIN
              : m.equals(HttpMethod.PATCH) ? RECONFIGURE_BASIN
              : m.equals(HttpMethod.DELETE) ? DELETE_BASIN : null;
        }
        yield null;
      }
      case "streams" -> {
        if (n == 2) {
          yield m.equals(HttpMethod.GET) ? LIST_STREAMS : m.equals(HttpMethod.POST) ? CREATE_STREAM : null;
        }
        if (n == 3) {
          yield m.equals(HttpMethod.GET) ? GET_STREAM_CONFIG
              : m.equals(HttpMethod.PUT) ? CREATE_STREAM
              : m.equals(HttpMethod.PATCH) ? RECONFIGURE_STREAM
              : m.equals(HttpMethod.DELETE) ? DELETE_STREAM : null;
        }
        if (n == 4 && segments.get(3).equals("records")) {
          yield m.equals(HttpMethod.GET) ? READ : m.equals(HttpMethod.POST) ? APPEND : null;
        }
        if (n == 5 && segments.get(3).equals("records") && segments.get(4).equals("tail")) {
          yield m.equals(HttpMethod.GET) ? CHECK_TAIL : null;
        }
        yield null;
      }
      case "access-tokens" -> {
        if (n == 2) {
          yield m.equals(HttpMethod.GET) ? LIST_ACCESS_TOKENS : m.equals(HttpMethod.POST) ? ISSUE_ACCESS_TOKEN : null;
        }
        yield n == 3 && m.equals(HttpMethod.DELETE) ? REVOKE_ACCESS_TOKEN : null;
      }
      case "metrics" -> {
        if (!m.equals(HttpMethod.GET)) {
          yield null;
        }
        yield n == 2 ? ACCOUNT_METRICS : n == 3 ? BASIN_METRICS : n == 4 ? STREAM_METRICS : null;
      }
      default -> null;
    };
  }
}
