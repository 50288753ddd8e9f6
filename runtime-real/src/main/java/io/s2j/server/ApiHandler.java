package io.s2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.s2j.api.AppendAck;
import io.s2j.api.AppendInput;
import io.s2j.api.AppendResult;
import io.s2j.api.BasinConfig;
import io.s2j.api.BasinName;
import io.s2j.api.Checked;
import io.s2j.crypto.EncryptionKey;
import io.s2j.api.ErrorCode;
import io.s2j.api.ProvisionResult;
import io.s2j.api.ReadEnd;
import io.s2j.api.ReadFrom;
import io.s2j.api.ReadRules;
import io.s2j.api.S2Error;
import io.s2j.api.StreamName;
import io.s2j.frontend.BasinInfo;
import io.s2j.frontend.Outcome;
import io.s2j.frontend.Page;
import io.s2j.frontend.StreamInfo;
import io.s2j.frontend.Provisioned;
import io.s2j.frontend.ReadResult;
import io.s2j.record.Limits;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * S2's HTTP API (S2-API §1, §5–10) over Netty HTTP messages: on HTTP/1.1 one handler per
 * connection (requests in turn), on HTTP/2 one per stream. Parses and validates each request in
 * lite's order (§3.3), hands it to the {@link Frontend} and writes S2's response: JSON or protobuf
 * for unary calls, an event stream or S2S frames for sessions.
 */
final class ApiHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

  static final String S2_BASIN = "s2-basin";
  static final String S2_FORMAT = "s2-format";
  static final String S2_REQUEST_TOKEN = "s2-request-token";
  static final String S2_ENCRYPTION_KEY = "s2-encryption-key";
  static final String S2_PROVISION_RESULT = "s2-provision-result";
  static final String LAST_EVENT_ID = "last-event-id";
  static final String JSON = "application/json";
  static final String PROTOBUF = "application/protobuf";
  static final String S2S = "s2s/proto";
  static final String EVENT_STREAM = "text/event-stream";

  private final Frontend fe;
  private final AccessTokens tokens;
  private final ServerMetrics metrics;
  private final RequestCounter counter;
  private final boolean http2;
  private final int bodyBytesMax;
  private final long readSessionUnsentBytesMax;

  private HttpRequest request;
  /** Who the current request acts as, once its token is checked. */
  private CompletableFuture<Outcome<Principal>> auth;
  private CompositeByteBuf body;
  /** The rest of the current request's body is dropped (it was refused already). */
  private boolean discarding;
  /** The current request's body goes to an append session as it arrives. */
  private AppendSessionExchange appendSession;
  /** The read session streaming on this channel, if any: told when the channel's writability changes (back-pressure). */
  private ReadSessionExchange readSession;
  private final LiveFrames liveFrames;
  /** Append sessions whose response may still be going (aborted if the connection closes). */
  private final List<AppendSessionExchange> openAppendSessions = new ArrayList<>();

  ApiHandler(Services services, boolean http2, RequestCounter counter) {
    this.fe = services.fe();
    this.liveFrames = services.liveFrames();
    this.tokens = services.tokens();
    this.metrics = services.metrics();
    this.counter = counter;
    this.http2 = http2;
    this.bodyBytesMax = services.config().bodyBytesMax();
    this.readSessionUnsentBytesMax = services.config().readSessionUnsentBytesMax();
  }

  /** Paths served without authentication: liveness and the Prometheus scrape. */
  static boolean open(String path) {
    return path.equals("/health") || path.equals("/ping") || path.equals("/metrics");
  }

  /** The label of a request in {@code s2j_http_requests_total}. */
  static String label(HttpRequest req) {
    Target t = Target.of(req);
    String path = t.query.rawPath();
    if (path.equals("/health") || path.equals("/ping")) {
      return "health";
    }
    if (path.equals("/metrics")) {
      return "prometheus";
    }
    Operation op = Operation.of(req.method(), t.segments);
    return op == null ? "none" : op.wireName;
  }

  // ---------------------------------------------------------------- request assembly

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest req) {
        onRequest(ctx, req);
      }
      if (msg instanceof HttpContent c) {
        onContent(ctx, c);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(ChannelHandlerContext ctx, HttpRequest req) {
    releaseBody();
    request = req;
    discarding = false;
    appendSession = null;
    counter.expect(req.decoderResult().isFailure() ? "none" : label(req));
    if (req.decoderResult().isFailure()) {
      discarding = true;
      FullHttpResponse r = plain(HttpResponseStatus.BAD_REQUEST, "bad request");
      r.headers().set(HttpHeaderNames.CONNECTION, "close");
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    if (HttpUtil.is100ContinueExpected(req) && !http2) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    auth = open(new QueryStringDecoder(req.uri()).rawPath())
        ? CompletableFuture.completedFuture(Outcome.ok(Principal.UNRESTRICTED))
        : tokens.authenticate(req.headers().get(HttpHeaderNames.AUTHORIZATION));
    if (req.method().equals(HttpMethod.POST) && S2S.equals(mediaType(req.headers().get(HttpHeaderNames.CONTENT_TYPE)))) {
      try {
        Target t = Target.of(req);
        if (t.segments.size() == 4 && t.segments.get(1).equals("streams") && t.segments.get(3).equals("records")) {
          BasinName basin = basinHeader(req);
          StreamName stream = streamPath(t.segments.get(2));
          EncryptionKey key = encryptionKey(req);
          AppendSessionExchange exchange = new AppendSessionExchange(fe, metrics, ctx, req, basin, key);
          appendSession = exchange;
          openAppendSessions.removeIf(AppendSessionExchange::finished);
          openAppendSessions.add(exchange);
          afterAuth(ctx, auth, principal -> {
            StreamName stored = principal.stream(stream, ApiError::badPath);
            allowStream(principal, Operation.APPEND, basin, stored);
            exchange.start(stored, principal);
          }, exchange::reject);
          return;
        }
      } catch (ApiError e) {
        discarding = true;
        // authentication comes first, as for every other request
        afterAuth(ctx, auth, principal -> {
          throw e;
        }, err -> sendError(ctx, err));
        return;
      }
    }
    body = ctx.alloc().compositeBuffer();
  }

  private void onContent(ChannelHandlerContext ctx, HttpContent c) {
    boolean last = c instanceof LastHttpContent;
    if (discarding) {
      return;
    }
    if (appendSession != null) {
      appendSession.data(c.content());
      if (last) {
        appendSession.endOfInput();
        appendSession = null;
      }
      return;
    }
    if (body == null) {
      return;
    }
    if (body.readableBytes() + c.content().readableBytes() > bodyBytesMax) {
      releaseBody();
      discarding = true;
      sendError(ctx, new S2Error(ErrorCode.INVALID, "request body exceeds " + bodyBytesMax + " bytes"), HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
      return;
    }
    if (c.content().isReadable()) {
      body.addComponent(true, c.content().retain());
    }
    if (last) {
      byte[] bytes = ByteBufUtil.getBytes(body);
      releaseBody();
      HttpRequest req = request;
      afterAuth(ctx, auth, principal -> route(ctx, req, bytes, principal), e -> sendError(ctx, e));
    }
  }

  /**
   * Runs {@code then} with the request's principal once its token is checked (at once when auth
   * is off), on this channel's event loop; an authentication failure, an {@link ApiError} thrown
   * by {@code then} (validation, authorization) or a bug goes to {@code onError}.
   */
  private void afterAuth(ChannelHandlerContext ctx, CompletableFuture<Outcome<Principal>> authFuture,
      java.util.function.Consumer<Principal> then, java.util.function.Consumer<S2Error> onError) {
    Runnable run = () -> {
      Outcome<Principal> outcome;
      try {
        outcome = authFuture.join();
      } catch (RuntimeException e) {
        log.error("authentication failed with a bug", e);
        onError.accept(new S2Error(ErrorCode.OTHER, "internal error"));
        return;
      }
      switch (outcome) {
        case Outcome.Failed<Principal> f -> {
          metrics.authFailed(f.error().code().wireCode());
          onError.accept(f.error());
        }
        case Outcome.Ok<Principal> ok -> {
          try {
            then.accept(ok.value());
          } catch (ApiError e) {
            if (e.error().code() == ErrorCode.PERMISSION_DENIED) {
              metrics.authFailed(e.error().code().wireCode());
            }
            onError.accept(e.error());
          } catch (RuntimeException e) {
            log.error("request failed", e);
            onError.accept(new S2Error(ErrorCode.OTHER, "internal error: " + e));
          }
        }
      }
    };
    if (authFuture.isDone()) {
      run.run();
    } else {
      authFuture.whenCompleteAsync((o, f) -> run.run(), ctx.executor());
    }
  }

  // ---------------------------------------------------------------- authorization

  private void allow(Principal p, Operation op) {
    p.require(op);
    metrics.usage.op(op, null);
  }

  private void allowBasin(Principal p, Operation op, BasinName basin) {
    p.requireBasin(op, basin);
    metrics.usage.op(op, basin.value());
  }

  /** {@code stream} as stored (prefixed when the token auto-prefixes). */
  private void allowStream(Principal p, Operation op, BasinName basin, StreamName stream) {
    p.requireStream(op, basin, stream);
    metrics.usage.op(op, basin.value());
  }

  /** An append of command records also needs {@code fence} / {@code trim} (granted by stream write). */
  static void requireCommands(Principal p, AppendInput input) {
    for (var r : input.batch().records()) {
      if (io.s2j.record.Command.isCommand(r.headers())) {
        var op = r.headers().get(0).value();
        p.require(op.equals(io.s2j.record.Command.FENCE) ? Operation.FENCE : Operation.TRIM);
      }
    }
  }

  private void releaseBody() {
    if (body != null) {
      body.release();
      body = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    releaseBody();
    openAppendSessions.forEach(AppendSessionExchange::abort);
    openAppendSessions.clear();
    appendSession = null;
    super.channelInactive(ctx);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (readSession != null) {
      readSession.writabilityChanged();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("connection {} failed", ctx.channel(), cause);
    ctx.close();
  }

  // ---------------------------------------------------------------- routing

  /** The request path split into decoded-later segments, and the query. */
  record Target(List<String> segments, QueryStringDecoder query) {
    static Target of(HttpRequest req) {
      QueryStringDecoder q = new QueryStringDecoder(req.uri());
      String raw = q.rawPath();
      List<String> segs = new ArrayList<>();
      for (String s : raw.split("/", -1)) {
        segs.add(s);
      }
      // "/v1/basins" -> ["", "v1", "basins"]: drop the leading empty one
      if (!segs.isEmpty() && segs.get(0).isEmpty()) {
        segs.remove(0);
      }
      return new Target(segs, q);
    }
  }

  private void route(ChannelHandlerContext ctx, HttpRequest req, byte[] bytes, Principal p) {
    Target t = Target.of(req);
    List<String> s = t.segments;
    HttpMethod m = req.method();
    String path = t.query.rawPath();
    if (path.equals("/health") || path.equals("/ping")) {
      if (m.equals(HttpMethod.GET)) {
        send(ctx, HttpResponseStatus.OK, "text/plain; charset=utf-8", "OK".getBytes(StandardCharsets.UTF_8), h -> {});
      } else {
        sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
      }
      return;
    }
    if (path.equals("/metrics")) {
      if (m.equals(HttpMethod.GET)) {
        send(ctx, HttpResponseStatus.OK, metrics.contentType(), metrics.scrape(), h -> {});
      } else {
        sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
      }
      return;
    }
    if (s.size() < 2 || !s.get(0).equals("v1")) {
      sendEmpty(ctx, HttpResponseStatus.NOT_FOUND);
      return;
    }
    switch (s.get(1)) {
      case "basins" -> {
        if (s.size() == 2) {
          if (m.equals(HttpMethod.GET)) {
            listBasins(ctx, t, p);
          } else if (m.equals(HttpMethod.POST)) {
            createBasin(ctx, req, bytes, p);
          } else {
            sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
          }
        } else if (s.size() == 3) {
          basin(ctx, req, m, s.get(2), bytes, p);
        } else {
          sendEmpty(ctx, HttpResponseStatus.NOT_FOUND);
        }
      }
      case "streams" -> {
        if (s.size() == 2) {
          if (m.equals(HttpMethod.GET)) {
            listStreams(ctx, req, t, p);
          } else if (m.equals(HttpMethod.POST)) {
            createStream(ctx, req, bytes, p);
          } else {
            sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
          }
        } else if (s.size() == 3) {
          stream(ctx, req, m, s.get(2), bytes, p);
        } else if (s.size() == 4 && s.get(3).equals("records")) {
          if (m.equals(HttpMethod.GET)) {
            read(ctx, req, t, s.get(2), p);
          } else if (m.equals(HttpMethod.POST)) {
            append(ctx, req, s.get(2), bytes, p);
          } else {
            sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
          }
        } else if (s.size() == 5 && s.get(3).equals("records") && s.get(4).equals("tail")) {
          if (m.equals(HttpMethod.GET)) {
            checkTail(ctx, req, s.get(2), p);
          } else {
            sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
          }
        } else {
          sendEmpty(ctx, HttpResponseStatus.NOT_FOUND);
        }
      }
      case "access-tokens" -> accessTokens(ctx, req, t, bytes, p);
      case "metrics" -> metricsApi(ctx, t, m, p);
      case "locations" -> sendError(ctx, new S2Error(ErrorCode.NOT_IMPLEMENTED, "not implemented by s2j"));
      default -> sendEmpty(ctx, HttpResponseStatus.NOT_FOUND);
    }
  }

  // ---------------------------------------------------------------- basins

  private void listBasins(ChannelHandlerContext ctx, Target t, Principal p) {
    String prefix = queryString(t, "prefix", "");
    String startAfter = queryString(t, "start_after", "");
    int limit = listLimit(t);
    checkedQuery(BasinName.parsePrefix(prefix));
    checkedQuery(BasinName.parseStartAfter(startAfter));
    allow(p, Operation.LIST_BASINS);
    Principal.Listing l = Principal.narrow(p.scope().basins(), prefix, startAfter);
    if (l == null) {
      sendJson(ctx, HttpResponseStatus.OK, Json.basinPage(new Page<>(List.of(), false)));
      return;
    }
    reply(ctx, fe.call(f -> f.catalog().listBasins(l.prefix(), l.startAfter(), l.only() == null ? limit : 1)), page -> {
      Page<BasinInfo> shown = l.only() == null ? page
          : new Page<>(page.items().stream().filter(b -> b.name().value().equals(l.only())).toList(), false);
      sendJson(ctx, HttpResponseStatus.OK, Json.basinPage(shown));
    });
  }

  private void createBasin(ChannelHandlerContext ctx, HttpRequest req, byte[] bytes, Principal p) {
    String token = requestToken(req);
    ObjectNode o = Json.object(requiredJsonBody(req, bytes), "create basin request");
    BasinName basin = Json.basinNameInBody(Json.required(o, "basin"));
    BasinConfig config = Json.basinConfig(o.get("config"));
    allowBasin(p, Operation.CREATE_BASIN, basin);
    reply(ctx, fe.call(f -> f.catalog().createBasin(basin, config, token)), r -> sendProvisioned(ctx, r, true, Json.basinInfo(r.info())));
  }

  private void basin(ChannelHandlerContext ctx, HttpRequest req, HttpMethod m, String segment, byte[] bytes, Principal p) {
    if (!(m.equals(HttpMethod.GET) || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.PATCH) || m.equals(HttpMethod.DELETE))) {
      sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
      return;
    }
    BasinName basin = switch (BasinName.parse(decodeSegment(segment))) {
      case Checked.Ok<BasinName> ok -> ok.value();
      case Checked.Invalid<BasinName> bad -> throw ApiError.badPath(bad.message());
    };
    if (m.equals(HttpMethod.GET)) {
      allowBasin(p, Operation.GET_BASIN_CONFIG, basin);
      reply(ctx, fe.call(f -> f.catalog().getBasinConfig(basin)), c -> sendJson(ctx, HttpResponseStatus.OK, Json.basinConfig(c)));
    } else if (m.equals(HttpMethod.PUT)) {
      JsonNode node = optionalJsonBody(req, bytes);
      BasinConfig config = node == null ? BasinConfig.DEFAULT : Json.basinConfig(Json.object(node, "ensure basin request").get("config"));
      // ensure creates or reconfigures: it needs both
      p.requireBasin(Operation.RECONFIGURE_BASIN, basin);
      allowBasin(p, Operation.CREATE_BASIN, basin);
      reply(ctx, fe.call(f -> f.catalog().ensureBasin(basin, config)), r -> sendProvisioned(ctx, r, false, Json.basinInfo(r.info())));
    } else if (m.equals(HttpMethod.PATCH)) {
      var patch = Json.basinReconfiguration(requiredJsonBody(req, bytes));
      allowBasin(p, Operation.RECONFIGURE_BASIN, basin);
      reply(ctx, fe.call(f -> f.catalog().reconfigureBasin(basin, patch)), c -> sendJson(ctx, HttpResponseStatus.OK, Json.basinConfig(c)));
    } else {
      allowBasin(p, Operation.DELETE_BASIN, basin);
      reply(ctx, fe.call(f -> f.catalog().deleteBasin(basin)), d -> sendEmpty(ctx, HttpResponseStatus.ACCEPTED));
    }
  }

  // ---------------------------------------------------------------- streams

  private void listStreams(ChannelHandlerContext ctx, HttpRequest req, Target t, Principal p) {
    BasinName basin = basinHeader(req);
    String prefix = queryString(t, "prefix", "");
    String startAfter = queryString(t, "start_after", "");
    int limit = listLimit(t);
    checkedQuery(StreamName.parsePrefix(prefix));
    checkedQuery(StreamName.parseStartAfter(startAfter));
    allowBasin(p, Operation.LIST_STREAMS, basin);
    String own = p.streamPrefix();
    String storedPrefix = checkedQuery(StreamName.parsePrefix(own + prefix));
    String storedStartAfter = startAfter.isEmpty() ? "" : checkedQuery(StreamName.parseStartAfter(own + startAfter));
    Principal.Listing l = Principal.narrow(p.scope().streams(), storedPrefix, storedStartAfter);
    if (l == null) {
      sendJson(ctx, HttpResponseStatus.OK, Json.streamPage(new Page<>(List.of(), false)));
      return;
    }
    reply(ctx, fe.call(f -> f.catalog().listStreams(basin, l.prefix(), l.startAfter(), l.only() == null ? limit : 1)), page -> {
      List<StreamInfo> shown = new ArrayList<>();
      for (StreamInfo s : page.items()) {
        String name = p.clientStreamName(s.name().value());
        if (name != null && (l.only() == null || s.name().value().equals(l.only()))) {
          shown.add(name.equals(s.name().value()) ? s : new StreamInfo(new StreamName(name), s.createdAtMs(), s.deletedAtMs(), s.cipher()));
        }
      }
      sendJson(ctx, HttpResponseStatus.OK, Json.streamPage(new Page<>(shown, l.only() == null && page.hasMore())));
    });
  }

  /** A stream's info as the client sees it (its name without the token's auto-prefix). */
  private static ObjectNode streamInfo(Principal p, StreamInfo s) {
    String name = p.clientStreamName(s.name().value());
    return Json.streamInfo(name == null || name.equals(s.name().value()) ? s
        : new StreamInfo(new StreamName(name), s.createdAtMs(), s.deletedAtMs(), s.cipher()));
  }

  private void createStream(ChannelHandlerContext ctx, HttpRequest req, byte[] bytes, Principal p) {
    String token = requestToken(req);
    BasinName basin = basinHeader(req);
    ObjectNode o = Json.object(requiredJsonBody(req, bytes), "create stream request");
    StreamName stream = p.stream(Json.streamNameInBody(Json.required(o, "stream")), ApiError::badJson);
    var config = Json.streamConfigSpec(o.get("config"));
    allowStream(p, Operation.CREATE_STREAM, basin, stream);
    reply(ctx, fe.call(f -> f.catalog().createStream(basin, stream, config, token)),
        r -> sendProvisioned(ctx, r, true, streamInfo(p, r.info())));
  }

  private void stream(ChannelHandlerContext ctx, HttpRequest req, HttpMethod m, String segment, byte[] bytes, Principal p) {
    if (!(m.equals(HttpMethod.GET) || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.PATCH) || m.equals(HttpMethod.DELETE))) {
      sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
      return;
    }
    BasinName basin = basinHeader(req);
    StreamName stream = p.stream(streamPath(segment), ApiError::badPath);
    if (m.equals(HttpMethod.GET)) {
      allowStream(p, Operation.GET_STREAM_CONFIG, basin, stream);
      reply(ctx, fe.call(f -> f.catalog().getStreamConfig(basin, stream)),
          c -> sendJson(ctx, HttpResponseStatus.OK, Json.resolvedConfig(c)));
    } else if (m.equals(HttpMethod.PUT)) {
      var config = Json.streamConfigSpec(optionalJsonBody(req, bytes));
      // ensure creates or reconfigures: it needs both
      p.requireStream(Operation.RECONFIGURE_STREAM, basin, stream);
      allowStream(p, Operation.CREATE_STREAM, basin, stream);
      reply(ctx, fe.call(f -> f.catalog().ensureStream(basin, stream, config)),
          r -> sendProvisioned(ctx, r, false, streamInfo(p, r.info())));
    } else if (m.equals(HttpMethod.PATCH)) {
      var patch = Json.streamReconfiguration(requiredJsonBody(req, bytes));
      allowStream(p, Operation.RECONFIGURE_STREAM, basin, stream);
      reply(ctx, fe.call(f -> f.catalog().reconfigureStream(basin, stream, patch)),
          c -> sendJson(ctx, HttpResponseStatus.OK, Json.resolvedConfig(c)));
    } else {
      allowStream(p, Operation.DELETE_STREAM, basin, stream);
      reply(ctx, fe.call(f -> f.catalog().deleteStream(basin, stream)), d -> sendEmpty(ctx, HttpResponseStatus.ACCEPTED));
    }
  }

  // ---------------------------------------------------------------- access tokens

  private void accessTokens(ChannelHandlerContext ctx, HttpRequest req, Target t, byte[] bytes, Principal p) {
    List<String> s = t.segments;
    HttpMethod m = req.method();
    if (s.size() == 2 && m.equals(HttpMethod.GET)) {
      String prefix = queryString(t, "prefix", "");
      String startAfter = queryString(t, "start_after", "");
      int limit = listLimit(t);
      String problem = AccessScope.tokenIdPrefixProblem("id prefix", prefix);
      if (problem == null) {
        problem = AccessScope.tokenIdPrefixProblem("id start_after", startAfter);
      }
      if (problem != null) {
        throw ApiError.badQuery(problem);
      }
      var listed = tokens.list(p, prefix, startAfter, limit);
      metrics.usage.op(Operation.LIST_ACCESS_TOKENS, null);
      reply(ctx, listed, page -> {
        ObjectNode o = Json.MAPPER.createObjectNode();
        var a = o.putArray("access_tokens");
        page.items().forEach(info -> a.add(AccessScope.json(info)));
        o.put("has_more", page.hasMore());
        sendJson(ctx, HttpResponseStatus.OK, o);
      });
    } else if (s.size() == 2 && m.equals(HttpMethod.POST)) {
      AccessScope.TokenInfo info = AccessScope.tokenInfo(requiredJsonBody(req, bytes));
      var issued = tokens.issue(p, info);
      metrics.usage.op(Operation.ISSUE_ACCESS_TOKEN, null);
      reply(ctx, issued, token -> sendJson(ctx, HttpResponseStatus.CREATED, Json.MAPPER.createObjectNode().put("access_token", token)));
    } else if (s.size() == 3 && m.equals(HttpMethod.DELETE)) {
      String id = decodeSegment(s.get(2));
      String problem = AccessScope.tokenIdProblem(id);
      if (problem != null) {
        throw ApiError.badPath(problem);
      }
      var revoked = tokens.revoke(p, id);
      metrics.usage.op(Operation.REVOKE_ACCESS_TOKEN, null);
      reply(ctx, revoked, done -> sendEmpty(ctx, HttpResponseStatus.NO_CONTENT));
    } else if (s.size() <= 3) {
      sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
    } else {
      sendEmpty(ctx, HttpResponseStatus.NOT_FOUND);
    }
  }

  // ---------------------------------------------------------------- metrics API

  private void metricsApi(ChannelHandlerContext ctx, Target t, HttpMethod m, Principal p) {
    List<String> s = t.segments;
    if (s.size() > 4) {
      sendEmpty(ctx, HttpResponseStatus.NOT_FOUND);
      return;
    }
    if (!m.equals(HttpMethod.GET)) {
      sendEmpty(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
      return;
    }
    String set = queryString(t, "set", null);
    String start = queryString(t, "start", null);
    String end = queryString(t, "end", null);
    String interval = queryString(t, "interval", null);
    long now = System.currentTimeMillis();
    if (s.size() == 2) {
      MetricsApi.Query q = MetricsApi.query(set, start, end, interval, MetricsApi.ACCOUNT_SETS, now);
      allow(p, Operation.ACCOUNT_METRICS);
      sendJson(ctx, HttpResponseStatus.OK, MetricsApi.account(q, metrics.usage));
      return;
    }
    BasinName basin = switch (BasinName.parse(decodeSegment(s.get(2)))) {
      case Checked.Ok<BasinName> ok -> ok.value();
      case Checked.Invalid<BasinName> bad -> throw ApiError.badPath(bad.message());
    };
    if (s.size() == 3) {
      MetricsApi.Query q = MetricsApi.query(set, start, end, interval, MetricsApi.BASIN_SETS, now);
      allowBasin(p, Operation.BASIN_METRICS, basin);
      if (q.set().equals("storage")) {
        reply(ctx, MetricsApi.basinStorage(fe, basin), bytesStored -> sendJson(ctx, HttpResponseStatus.OK, MetricsApi.storage(q, bytesStored)));
      } else {
        reply(ctx, fe.call(f -> f.catalog().getBasinConfig(basin)),
            c -> sendJson(ctx, HttpResponseStatus.OK, MetricsApi.basin(q, basin.value(), metrics.usage)));
      }
      return;
    }
    StreamName stream = p.stream(streamPath(s.get(3)), ApiError::badPath);
    MetricsApi.Query q = MetricsApi.query(set, start, end, interval, MetricsApi.STREAM_SETS, now);
    allowStream(p, Operation.STREAM_METRICS, basin, stream);
    reply(ctx, MetricsApi.streamStorage(fe, basin, stream), bytesStored -> sendJson(ctx, HttpResponseStatus.OK, MetricsApi.storage(q, bytesStored)));
  }

  // ---------------------------------------------------------------- records

  private void checkTail(ChannelHandlerContext ctx, HttpRequest req, String segment, Principal p) {
    BasinName basin = basinHeader(req);
    StreamName stream = p.stream(streamPath(segment), ApiError::badPath);
    allowStream(p, Operation.CHECK_TAIL, basin, stream);
    reply(ctx, fe.call(f -> f.data().checkTail(basin, stream)), tail -> sendJson(ctx, HttpResponseStatus.OK, Json.tail(tail)));
  }

  private void append(ChannelHandlerContext ctx, HttpRequest req, String segment, byte[] bytes, Principal p) {
    BasinName basin = basinHeader(req);
    StreamName stream = p.stream(streamPath(segment), ApiError::badPath);
    EncryptionKey key = encryptionKey(req);
    RecordFormat format = RecordFormat.fromHeader(req.headers().get(S2_FORMAT));
    String contentType = mediaType(req.headers().get(HttpHeaderNames.CONTENT_TYPE));
    AppendInput input;
    if (isProtobuf(contentType)) {
      input = Protos.appendInput(bytes);
    } else {
      if (!isJson(contentType)) {
        throw ApiError.badJson("Expected request with `Content-Type: application/json`");
      }
      JsonNode node = Json.parse(bytes);
      if (node == null) {
        throw ApiError.badJson("Failed to parse the request body as JSON: EOF while parsing a value");
      }
      input = Json.appendInput(node, format);
    }
    boolean protoOut = isProtobuf(mediaType(req.headers().get(HttpHeaderNames.ACCEPT)));
    allowStream(p, Operation.APPEND, basin, stream);
    requireCommands(p, input);
    long started = System.nanoTime();
    reply(ctx, fe.call(f -> f.data().append(basin, stream, input, key)), result -> {
      if (result instanceof AppendAck ack) {
        metrics.appendLatency(System.nanoTime() - started);
        metrics.appendAcked("unary", basin.value(), stream.value(), ack.end().seqNum() - ack.start().seqNum(), input.batch().meteredBytes());
      }
      sendAppendResult(ctx, result, protoOut);
    });
  }

  private void sendAppendResult(ChannelHandlerContext ctx, AppendResult result, boolean protoOut) {
    switch (result) {
      case AppendAck ack -> {
        if (protoOut) {
          send(ctx, HttpResponseStatus.OK, PROTOBUF, Protos.ack(ack).toByteArray(), h -> {});
        } else {
          sendJson(ctx, HttpResponseStatus.OK, Json.ack(ack));
        }
      }
      case AppendResult.SeqNumMismatch m -> sendJson(ctx, HttpResponseStatus.PRECONDITION_FAILED, Json.seqNumMismatch(m.nextSeqNum()));
      case AppendResult.FencingTokenMismatch m ->
          sendJson(ctx, HttpResponseStatus.PRECONDITION_FAILED, Json.fencingTokenMismatch(m.currentToken()));
      case AppendResult.SeqNumLimitExceeded e -> sendError(ctx, e.toError());
      case AppendResult.Failed f -> sendError(ctx, f.error());
    }
  }

  /** The parsed query of a read (S2-API §6.10). */
  record ReadQuery(ReadFrom from, boolean clamp, ReadEnd end) {}

  static ReadQuery readQuery(Target t) {
    Long seqNum = queryU64(t, "seq_num");
    Long timestamp = queryU64(t, "timestamp");
    Long tailOffset = queryU64(t, "tail_offset");
    String clampText = queryString(t, "clamp", null);
    boolean clamp;
    if (clampText == null) {
      clamp = false;
    } else if (clampText.equals("true") || clampText.equals("false")) {
      clamp = clampText.equals("true");
    } else {
      throw ApiError.badQuery("invalid `clamp`: expected true or false");
    }
    Long count = queryU64(t, "count");
    Long bytes = queryU64(t, "bytes");
    Long until = queryU64(t, "until");
    Long wait = queryU64(t, "wait");
    if (wait != null && (wait < 0 || wait > 0xFFFF_FFFFL)) {
      throw ApiError.badQuery("invalid `wait`: expected an unsigned 32-bit number of seconds");
    }
    ReadFrom from = switch (ReadRules.validateStart(seqNum, timestamp, tailOffset, until)) {
      case Checked.Ok<ReadFrom> ok -> ok.value();
      case Checked.Invalid<ReadFrom> bad -> throw ApiError.invalid(bad.message());
    };
    return new ReadQuery(from, clamp, new ReadEnd(count, bytes, until, wait));
  }

  private void read(ChannelHandlerContext ctx, HttpRequest req, Target t, String segment, Principal p) {
    BasinName basin = basinHeader(req);
    StreamName stream = p.stream(streamPath(segment), ApiError::badPath);
    ReadQuery q = readQuery(t);
    EncryptionKey key = encryptionKey(req);
    RecordFormat format = RecordFormat.fromHeader(req.headers().get(S2_FORMAT));
    String accept = mediaType(req.headers().get(HttpHeaderNames.ACCEPT));
    allowStream(p, Operation.READ, basin, stream);
    metrics.usage.readOp(basin.value());
    if (S2S.equals(mediaType(req.headers().get(HttpHeaderNames.CONTENT_TYPE)))) {
      readSession = new ReadSessionExchange(fe, liveFrames, metrics, ctx, ReadSessionExchange.Kind.S2S, format,
          S2sFrames.Compression.negotiate(req.headers().getAll(HttpHeaderNames.ACCEPT_ENCODING)), 0, 0, readSessionUnsentBytesMax);
      readSession.open(basin, stream, q.from(), q.clamp(), q.end(), key);
      return;
    }
    if (EVENT_STREAM.equals(accept)) {
      String lastEventId = req.headers().get(LAST_EVENT_ID);
      ReadFrom from = q.from();
      ReadEnd end = q.end();
      long count0 = 0;
      long bytes0 = 0;
      if (lastEventId != null) {
        long[] id = lastEventId(lastEventId);
        from = new ReadFrom.SeqNum(id[0] + 1);
        count0 = id[1];
        bytes0 = id[2];
        end = new ReadEnd(end.count() == null ? null : saturatingSub(end.count(), id[1]),
            end.bytes() == null ? null : saturatingSub(end.bytes(), id[2]), end.untilMs(), end.waitSecs());
      }
      readSession = new ReadSessionExchange(fe, liveFrames, metrics, ctx, ReadSessionExchange.Kind.SSE, format, S2sFrames.Compression.NONE,
          count0, bytes0, readSessionUnsentBytesMax);
      readSession.open(basin, stream, from, q.clamp(), end, key);
      return;
    }
    boolean protoOut = isProtobuf(accept);
    reply(ctx, fe.call(f -> f.data().read(basin, stream, q.from(), q.clamp(), q.end(), key)), result -> {
      switch (result) {
        case ReadResult.Batch b -> {
          long delivered = 0;
          for (var r : b.records()) {
            delivered += r.meteredBytes();
          }
          metrics.readDelivered("unary", basin.value(), stream.value(), b.records().size(), delivered);
          if (protoOut) {
            send(ctx, HttpResponseStatus.OK, PROTOBUF, Protos.readBatch(b.records(), b.tail()).toByteArray(), h -> {});
          } else {
            sendJson(ctx, HttpResponseStatus.OK, Json.readBatch(b.records(), b.tail(), format));
          }
        }
        case ReadResult.Unsatisfiable u -> sendJson(ctx, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Json.tail(u.tail()));
      }
    });
  }

  private static long saturatingSub(long a, long b) {
    return Long.compareUnsigned(a, b) <= 0 ? 0 : a - b;
  }

  static long[] lastEventId(String value) {
    String[] parts = value.trim().split(",", -1);
    if (parts.length != 3) {
      throw ApiError.badHeader("invalid Last-Event-ID: expected `seq_num,count,bytes`");
    }
    long[] out = new long[3];
    for (int i = 0; i < 3; i++) {
      try {
        out[i] = Long.parseUnsignedLong(parts[i]);
      } catch (NumberFormatException e) {
        throw ApiError.badHeader("invalid Last-Event-ID: expected `seq_num,count,bytes`");
      }
    }
    if (out[0] < 0 || out[0] == Long.MAX_VALUE) {
      throw ApiError.badHeader("invalid Last-Event-ID: sequence number out of range");
    }
    return out;
  }

  // ---------------------------------------------------------------- request parts

  static String mediaType(String header) {
    if (header == null) {
      return null;
    }
    String first = header.split(",", 2)[0];
    int semi = first.indexOf(';');
    if (semi >= 0) {
      first = first.substring(0, semi);
    }
    return first.trim().toLowerCase(Locale.ROOT);
  }

  static boolean isJson(String mediaType) {
    if (mediaType == null || !mediaType.startsWith("application/")) {
      return false;
    }
    String sub = mediaType.substring("application/".length());
    return sub.equals("json") || sub.endsWith("+json");
  }

  static boolean isProtobuf(String mediaType) {
    return PROTOBUF.equals(mediaType) || "application/x-protobuf".equals(mediaType);
  }

  private static JsonNode requiredJsonBody(HttpRequest req, byte[] bytes) {
    if (!isJson(mediaType(req.headers().get(HttpHeaderNames.CONTENT_TYPE)))) {
      throw ApiError.badJson("Expected request with `Content-Type: application/json`");
    }
    JsonNode node = Json.parse(bytes);
    if (node == null) {
      throw ApiError.badJson("Failed to parse the request body as JSON: EOF while parsing a value");
    }
    return node;
  }

  /** An optional JSON body (the ensure PUTs): no content type, an empty body or JSON null are "none". */
  private static JsonNode optionalJsonBody(HttpRequest req, byte[] bytes) {
    String ct = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (ct == null) {
      return null;
    }
    if (!isJson(mediaType(ct))) {
      throw ApiError.badJson("Expected request with `Content-Type: application/json`");
    }
    JsonNode node = Json.parse(bytes);
    return node == null || node.isNull() ? null : node;
  }

  static BasinName basinHeader(HttpRequest req) {
    String v = req.headers().get(S2_BASIN);
    if (v == null) {
      throw ApiError.badHeader("Missing header `s2-basin`");
    }
    return switch (BasinName.parse(v)) {
      case Checked.Ok<BasinName> ok -> ok.value();
      case Checked.Invalid<BasinName> bad -> throw ApiError.badHeader("invalid `s2-basin` header: " + bad.message());
    };
  }

  static StreamName streamPath(String segment) {
    return switch (StreamName.parse(decodeSegment(segment))) {
      case Checked.Ok<StreamName> ok -> ok.value();
      case Checked.Invalid<StreamName> bad -> throw ApiError.badPath(bad.message());
    };
  }

  /** A percent-decoded path segment ({@code %2F} becomes '/', '+' stays '+'). */
  static String decodeSegment(String raw) {
    try {
      return new QueryStringDecoder("/" + raw, StandardCharsets.UTF_8, true).path().substring(1);
    } catch (IllegalArgumentException e) {
      throw ApiError.badPath("invalid percent-encoding in path");
    }
  }

  private static String requestToken(HttpRequest req) {
    String token = req.headers().get(S2_REQUEST_TOKEN);
    if (token != null && token.getBytes(StandardCharsets.UTF_8).length > Limits.REQUEST_TOKEN_BYTES_MAX) {
      throw ApiError.badHeader("invalid `s2-request-token` header: must not exceed " + Limits.REQUEST_TOKEN_BYTES_MAX + " bytes");
    }
    return token;
  }

  /** The request's encryption key (null if none was sent); a malformed one is {@code 400 bad_header} (S2-API §15). */
  static EncryptionKey encryptionKey(HttpRequest req) {
    String value = req.headers().get(S2_ENCRYPTION_KEY);
    if (value == null) {
      return null;
    }
    return switch (EncryptionKey.parseHeader(value)) {
      case Checked.Ok<EncryptionKey> ok -> ok.value();
      case Checked.Invalid<EncryptionKey> bad -> throw ApiError.badHeader(bad.message());
    };
  }

  private static String queryString(Target t, String name, String dflt) {
    List<String> vs = t.query.parameters().get(name);
    return vs == null || vs.isEmpty() ? dflt : vs.get(vs.size() - 1);
  }

  private static Long queryU64(Target t, String name) {
    String v = queryString(t, name, null);
    if (v == null) {
      return null;
    }
    try {
      return Long.parseUnsignedLong(v);
    } catch (NumberFormatException e) {
      throw ApiError.badQuery("invalid `" + name + "`: expected an unsigned 64-bit integer, got `" + v + "`");
    }
  }

  private static int listLimit(Target t) {
    Long limit = queryU64(t, "limit");
    if (limit == null || limit == 0 || Long.compareUnsigned(limit, Limits.LIST_LIMIT_MAX) > 0) {
      return Limits.LIST_LIMIT_MAX;
    }
    return limit.intValue();
  }

  private static <T> T checkedQuery(Checked<T> c) {
    return switch (c) {
      case Checked.Ok<T> ok -> ok.value();
      case Checked.Invalid<T> bad -> throw ApiError.badQuery(bad.message());
    };
  }

  // ---------------------------------------------------------------- responses

  /** Writes the value on success, S2's error otherwise; back on this channel's event loop. */
  private <T> void reply(ChannelHandlerContext ctx, CompletableFuture<Outcome<T>> future, java.util.function.Consumer<T> onOk) {
    future.whenCompleteAsync((outcome, failure) -> {
      if (failure != null) {
        log.error("request failed with a bug", failure);
        sendError(ctx, new S2Error(ErrorCode.OTHER, "internal error"));
        return;
      }
      switch (outcome) {
        case Outcome.Ok<T> ok -> {
          try {
            onOk.accept(ok.value());
          } catch (ApiError e) {
            sendError(ctx, e.error());
          }
        }
        case Outcome.Failed<T> f -> sendError(ctx, f.error());
      }
    }, ctx.executor());
  }

  private static void sendProvisioned(ChannelHandlerContext ctx, Provisioned<?> p, boolean create, ObjectNode info) {
    HttpResponseStatus status = create || p.result() == ProvisionResult.CREATED ? HttpResponseStatus.CREATED : HttpResponseStatus.OK;
    send(ctx, status, JSON, Json.bytes(info), h -> h.set(S2_PROVISION_RESULT, p.result().wireName()));
  }

  static void sendJson(ChannelHandlerContext ctx, HttpResponseStatus status, JsonNode node) {
    send(ctx, status, JSON, Json.bytes(node), h -> {});
  }

  static void sendError(ChannelHandlerContext ctx, S2Error e) {
    sendError(ctx, e, HttpResponseStatus.valueOf(e.code().httpStatus()));
  }

  static void sendError(ChannelHandlerContext ctx, S2Error e, HttpResponseStatus status) {
    send(ctx, status, JSON, Json.bytes(Json.error(e)), h -> {});
  }

  static void sendEmpty(ChannelHandlerContext ctx, HttpResponseStatus status) {
    send(ctx, status, null, new byte[0], h -> {});
  }

  static void send(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType, byte[] body,
      java.util.function.Consumer<HttpHeaders> extra) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    if (contentType != null) {
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    extra.accept(r.headers());
    ctx.writeAndFlush(r);
  }

  private static FullHttpResponse plain(HttpResponseStatus status, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(b));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
    return r;
  }
}
