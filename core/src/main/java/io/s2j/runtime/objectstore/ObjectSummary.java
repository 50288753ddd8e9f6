package io.s2j.runtime.objectstore;

/** One entry of a listing. */
public record ObjectSummary(ObjectKey key, long objectBytes, ETag etag) {}
