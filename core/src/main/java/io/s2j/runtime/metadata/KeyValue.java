package io.s2j.runtime.metadata;

import com.google.protobuf.ByteString;

/**
 * A key's current value and the store revision that last wrote it ({@code modRevision} ≥ 1).
 */
public record KeyValue(ByteString key, ByteString value, long modRevision) {}
