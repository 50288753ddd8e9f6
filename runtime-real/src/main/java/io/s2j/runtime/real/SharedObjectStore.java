package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Done;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.objectstore.ByteRange;
import io.s2j.runtime.objectstore.GetResult;
import io.s2j.runtime.objectstore.ListPage;
import io.s2j.runtime.objectstore.ObjectKey;
import io.s2j.runtime.objectstore.ObjectStore;
import io.s2j.runtime.objectstore.PutCondition;
import io.s2j.runtime.objectstore.PutResult;
import java.util.concurrent.CompletableFuture;

/**
 * One bucket shared by every node of a {@link RealRuntime}, completing on whatever thread finished
 * the work; {@link #view(Scheduler)} turns it into a node's {@link ObjectStore}, whose promises
 * complete on that node's executor.
 *
 * <p>Splitting it this way keeps the thread hop in one place ({@link NodeObjectStore}) instead of
 * in every backend. Futures fail only with {@link io.s2j.runtime.IoFailure}s; semantics are the
 * {@link ObjectStore} contract's. {@link #close()} releases the backend's threads and clients.
 */
public interface SharedObjectStore extends AutoCloseable {
  /** A range of {@code null} asks for the whole object. */
  CompletableFuture<GetResult> get(ObjectKey key, ByteRange range);

  CompletableFuture<PutResult> put(ObjectKey key, ByteString data, PutCondition condition);

  CompletableFuture<Done> delete(ObjectKey key);

  CompletableFuture<ListPage> list(String prefix, ObjectKey startAfter, int limit);

  /** This store as seen from the node whose executor is {@code scheduler}. */
  default ObjectStore view(Scheduler scheduler) {
    return new NodeObjectStore(this, scheduler);
  }

  @Override
  void close();
}
