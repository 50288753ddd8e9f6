package io.s2j.server;

/**
 * What every connection's handlers share: the frontend, access tokens, metrics, the config, and
 * the live batches encoded once for all tailing read sessions (used on the frontend's executor).
 */
record Services(Frontend fe, AccessTokens tokens, ServerMetrics metrics, ServerConfig config, LiveFrames liveFrames) {
  Services(Frontend fe, AccessTokens tokens, ServerMetrics metrics, ServerConfig config) {
    this(fe, tokens, metrics, config, new LiveFrames());
  }
}
