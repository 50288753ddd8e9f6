package io.s2j.runtime.objectstore;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Promise;

/**
 * An S3-like bucket, as seen from one component instance; promises complete on its executor.
 *
 * <p>Contract (S3's, since November 2024):
 *
 * <ul>
 *   <li>Strong consistency: once a put or delete has completed successfully, every get and list
 *       that starts afterwards sees it. Writes to one key are atomic: a get sees a whole version.
 *   <li>Conditional writes are atomic compare-and-swaps: of concurrent {@code IfAbsent} puts of
 *       one key at most one is {@code Written}; of concurrent {@code IfMatch} puts naming the same
 *       etag at most one is {@code Written}.
 *   <li>A version with different bytes gets a different etag. Identical bytes may keep the etag
 *       (S3's single-part etag is the MD5 of the bytes), so a compare-and-swap whose new bytes
 *       equal the old ones can succeed against a later rewrite of the same bytes (harmless: the
 *       bytes are the same); protocols that need versions to differ put a version in the bytes.
 *   <li>Listing is in UTF-8 byte order of keys, at most {@code limit} (1..1000) per page.
 *   <li>Failures are {@link io.s2j.runtime.IoFailure}s. {@code THROTTLED} (503 SlowDown) and
 *       {@code CONFLICT} (409) are definite, and so is {@code REJECTED} (400/403: a
 *       configuration error). {@code TIMEOUT} is indefinite, and so is a
 *       {@code SERVER_ERROR} of a put or delete: the write may have been applied, and may even
 *       become visible after the caller saw the failure. Reads have no effect, so how a read
 *       failed only matters for retrying.
 * </ul>
 */
public interface ObjectStore {
  int LIST_LIMIT_MAX = 1000;

  /** The whole object. */
  Promise<GetResult> get(ObjectKey key);

  /** The bytes of {@code range}, cut at the end of the object. */
  Promise<GetResult> get(ObjectKey key, ByteRange range);

  Promise<PutResult> put(ObjectKey key, ByteString data, PutCondition condition);

  /** Deletes the object if it exists; deleting a missing key succeeds (as in S3). */
  Promise<Done> delete(ObjectKey key);

  /** Keys starting with {@code prefix} and ordered after {@code startAfter} (null: from the start). */
  Promise<ListPage> list(String prefix, ObjectKey startAfter, int limit);
}
