package io.s2j.server;

/**
 * What every connection's handlers share: the frontend, access tokens, metrics and the config.
 */
record Services(Frontend fe, AccessTokens tokens, ServerMetrics metrics, ServerConfig config) {}
