package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.s2j.runtime.Invariants;
import io.s2j.runtime.IoFailure;
import io.s2j.runtime.Promise;
import io.s2j.runtime.Scheduler;
import io.s2j.runtime.metadata.Condition;
import io.s2j.runtime.metadata.KeyValue;
import io.s2j.runtime.metadata.MetadataStore;
import io.s2j.runtime.metadata.Mutation;
import io.s2j.runtime.metadata.ScanPage;
import io.s2j.runtime.metadata.Txn;
import io.s2j.runtime.metadata.TxnResult;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The {@link MetadataStore} on an etcd cluster (v3 API, through jetcd): the metadata store of a
 * distributed deployment, where every process is a client of the same etcd.
 *
 * <p>Mapping (docs/deploy.md has the long form):
 *
 * <ul>
 *   <li>Keys: a store key {@code k} is the etcd key {@code namespace + "k" + k}; the etcd key
 *       {@code namespace + "r"} is the revision marker (below). Several stores (deployments,
 *       tests) can share one etcd under different namespaces. etcd orders keys by unsigned bytes, as
 *       the contract does, and a prefix keeps that order.
 *   <li>Revisions are etcd's: a committed transaction's revision is the etcd revision of its write,
 *       and a key's {@code modRevision} is etcd's {@code mod_revision}. They increase strictly with
 *       every committed transaction but are not dense (other namespaces, leases and the marker of
 *       other stores share etcd's counter). etcd does not advance its revision for a transaction
 *       that only deletes missing keys, so a transaction without puts also puts the marker.
 *   <li>One {@link Txn} is one etcd txn: {@code Absent} is {@code version(key) == 0}; {@code
 *       RevisionIs(r)} is {@code mod_revision(key) == r} (with r &lt; 1, which no existing key has,
 *       a compare that never holds: etcd gives a missing key mod_revision 0); {@code ValueIs(v)} is
 *       {@code value(key) == v} (false for a missing key in etcd too). The failure branch reads every
 *       condition key at the txn's revision, so the first condition that failed is found from one
 *       consistent view, without a second round trip.
 *   <li>Reads are etcd's default linearizable reads (a quorum read through the leader); scans
 *       are one range request with a limit (keys ascending), {@code more} is etcd's {@code more}.
 * </ul>
 *
 * <p>Failures: every request carries a deadline ({@link Options#requestTimeout}). A read that fails
 * changed nothing, so read failures are definite {@code UNAVAILABLE}. A txn that fails with a
 * deadline or a broken connection may have been proposed to the raft log and may commit, even after
 * the caller saw the failure: indefinite {@code TIMEOUT}. Errors etcd returns before proposing
 * (invalid argument, too many requests, no space, permission) are definite. jetcd never retries a
 * txn here (its auto-retry is off for txns unless asked), which matters: a retried CAS whose first
 * attempt committed would report a condition failure for a write that happened.
 */
public final class EtcdMetadataStore implements AutoCloseable {
  /** Where the etcd cluster is and how long to wait for it. */
  public record Options(List<URI> endpoints, ByteString namespace, Duration requestTimeout, Duration connectTimeout) {
    public Options {
      endpoints = List.copyOf(endpoints);
      if (endpoints.isEmpty()) {
        throw new IllegalArgumentException("at least one etcd endpoint");
      }
      Objects.requireNonNull(namespace, "namespace");
      if (requestTimeout.isNegative() || requestTimeout.isZero() || connectTimeout.isNegative() || connectTimeout.isZero()) {
        throw new IllegalArgumentException("timeouts must be positive");
      }
    }

    /** {@code endpoints} under {@code namespace}, 5 s per request, 2 s to connect. */
    public static Options of(List<URI> endpoints, ByteString namespace) {
      return new Options(endpoints, namespace, Duration.ofSeconds(5), Duration.ofSeconds(2));
    }

    public Options withRequestTimeout(Duration timeout) {
      return new Options(endpoints, namespace, timeout, connectTimeout);
    }
  }

  private static final ByteString KEY_PREFIX = ByteString.copyFromUtf8("k");
  private static final ByteString MARKER = ByteString.copyFromUtf8("r");

  private final Options options;
  private final Client client;
  private final ByteString keyPrefix;
  private final ByteSequence marker;

  private EtcdMetadataStore(Options options, Client client) {
    this.options = options;
    this.client = client;
    this.keyPrefix = options.namespace().concat(KEY_PREFIX);
    this.marker = ByteSequence.from(options.namespace().concat(MARKER));
  }

  /** A store on the etcd cluster at {@code options.endpoints()}; connects lazily. */
  public static EtcdMetadataStore connect(Options options) {
    long timeoutNanos = options.requestTimeout().toNanos();
    // A deadline on every unary call (not on lease keep-alive streams): with wait-for-ready, a
    // call to an unreachable etcd would otherwise wait for as long as etcd stays away.
    ClientInterceptor deadlines = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions callOptions, Channel next) {
        CallOptions withDeadline = method.getType() == MethodDescriptor.MethodType.UNARY && callOptions.getDeadline() == null
            ? callOptions.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
            : callOptions;
        return next.newCall(method, withDeadline);
      }
    };
    Client client = Client.builder()
        .endpoints(options.endpoints().toArray(URI[]::new))
        .connectTimeout(options.connectTimeout())
        .interceptor(deadlines)
        .build();
    return new EtcdMetadataStore(options, client);
  }

  public Options options() {
    return options;
  }

  /** The jetcd client, for the lease and election helpers that share its connection. */
  Client client() {
    return client;
  }

  /** This store as seen from the node whose executor is {@code scheduler}. */
  public MetadataStore view(Scheduler scheduler) {
    Objects.requireNonNull(scheduler, "scheduler");
    return new MetadataStore() {
      @Override
      public Promise<Optional<KeyValue>> get(ByteString key) {
        Objects.requireNonNull(key, "key");
        return Hops.toPromise(scheduler, EtcdMetadataStore.this.get(key));
      }

      @Override
      public Promise<ScanPage> scan(ByteString startInclusive, ByteString endExclusive, int limit) {
        Objects.requireNonNull(startInclusive, "startInclusive");
        Objects.requireNonNull(endExclusive, "endExclusive");
        if (limit < 1 || limit > SCAN_LIMIT_MAX) {
          throw new IllegalArgumentException("scan limit must be 1.." + SCAN_LIMIT_MAX + ": " + limit);
        }
        return Hops.toPromise(scheduler, EtcdMetadataStore.this.scan(startInclusive, endExclusive, limit));
      }

      @Override
      public Promise<TxnResult> commit(Txn txn) {
        Objects.requireNonNull(txn, "txn");
        return Hops.toPromise(scheduler, EtcdMetadataStore.this.commit(txn));
      }
    };
  }

  /** The etcd key of store key {@code key}, for leased writes of {@link EtcdLease}. */
  ByteSequence etcdKeyOf(ByteString key) {
    return etcdKey(key);
  }

  /** The store key's etcd key. */
  private ByteSequence etcdKey(ByteString key) {
    return ByteSequence.from(keyPrefix.concat(key));
  }

  private KeyValue fromEtcd(io.etcd.jetcd.KeyValue kv) {
    ByteString full = ByteString.copyFrom(kv.getKey().getBytes());
    Invariants.check(full.startsWith(keyPrefix), "etcd key outside the namespace");
    return new KeyValue(full.substring(keyPrefix.size()), ByteString.copyFrom(kv.getValue().getBytes()), kv.getModRevision());
  }

  /** A linearizable read of store key {@code key}, outside any node (for process-level watchers). */
  public CompletableFuture<Optional<KeyValue>> read(ByteString key) {
    return get(key);
  }

  CompletableFuture<Optional<KeyValue>> get(ByteString key) {
    return readFailures("get", client.getKVClient().get(etcdKey(key))
        .thenApply(r -> r.getKvs().isEmpty() ? Optional.<KeyValue>empty() : Optional.of(fromEtcd(r.getKvs().get(0)))));
  }

  /** A linearizable range read of store keys, outside any node (for process-level watchers and tests). */
  public CompletableFuture<ScanPage> scan(ByteString startInclusive, ByteString endExclusive, int limit) {
    if (ByteString.unsignedLexicographicalComparator().compare(startInclusive, endExclusive) >= 0) {
      // An empty range, still read at one (current) revision: read the marker, whatever it holds.
      return readFailures("scan", client.getKVClient().get(marker)
          .thenApply(r -> new ScanPage(List.of(), false, r.getHeader().getRevision())));
    }
    GetOption range = GetOption.builder()
        .withRange(etcdKey(endExclusive))
        .withLimit(limit)
        .withSortField(GetOption.SortTarget.KEY)
        .withSortOrder(GetOption.SortOrder.ASCEND)
        .build();
    return readFailures("scan", client.getKVClient().get(etcdKey(startInclusive), range).thenApply(r -> {
      List<KeyValue> entries = new ArrayList<>(r.getKvs().size());
      r.getKvs().forEach(kv -> entries.add(fromEtcd(kv)));
      Invariants.check(entries.size() <= limit, "etcd returned %d entries for limit %d", entries.size(), limit);
      return new ScanPage(entries, r.isMore(), r.getHeader().getRevision());
    }));
  }

  CompletableFuture<TxnResult> commit(Txn txn) {
    List<Cmp> compares = new ArrayList<>(txn.conditions().size());
    // Distinct condition keys, read by the failure branch to find the first failed condition.
    Map<ByteString, Integer> conditionKeys = new LinkedHashMap<>();
    for (Condition c : txn.conditions()) {
      ByteSequence key = etcdKey(c.key());
      compares.add(switch (c) {
        case Condition.Absent a -> new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0));
        case Condition.RevisionIs r -> r.modRevision() >= 1
            ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(r.modRevision()))
            : new Cmp(key, Cmp.Op.LESS, CmpTarget.version(0)); // never holds
        case Condition.ValueIs v -> new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(ByteSequence.from(v.value())));
      });
      conditionKeys.putIfAbsent(c.key(), conditionKeys.size());
    }
    List<Op> writes = new ArrayList<>(txn.mutations().size() + 1);
    boolean puts = false;
    for (Mutation m : txn.mutations()) {
      switch (m) {
        case Mutation.Put p -> {
          writes.add(Op.put(etcdKey(p.key()), ByteSequence.from(p.value()), PutOption.DEFAULT));
          puts = true;
        }
        case Mutation.Delete d -> writes.add(Op.delete(etcdKey(d.key()), DeleteOption.DEFAULT));
      }
    }
    if (!puts) {
      writes.add(Op.put(marker, ByteSequence.EMPTY, PutOption.DEFAULT));
    }
    List<Op> reads = new ArrayList<>(conditionKeys.size());
    for (ByteString key : conditionKeys.keySet()) {
      reads.add(Op.get(etcdKey(key), GetOption.DEFAULT));
    }
    CompletableFuture<io.etcd.jetcd.kv.TxnResponse> sent = client.getKVClient().txn()
        .If(compares.toArray(Cmp[]::new))
        .Then(writes.toArray(Op[]::new))
        .Else(reads.toArray(Op[]::new))
        .commit();
    return sent.handle((r, failure) -> {
      if (failure != null) {
        throw txnFailure(Hops.unwrap(failure));
      }
      if (r.isSucceeded()) {
        return (TxnResult) new TxnResult.Committed(r.getHeader().getRevision());
      }
      List<GetResponse> got = r.getGetResponses();
      Invariants.check(got.size() == conditionKeys.size(), "failure branch read %d keys of %d", got.size(), conditionKeys.size());
      for (int i = 0; i < txn.conditions().size(); i++) {
        Condition c = txn.conditions().get(i);
        GetResponse g = got.get(conditionKeys.get(c.key()));
        Optional<KeyValue> kv = g.getKvs().isEmpty() ? Optional.empty() : Optional.of(fromEtcd(g.getKvs().get(0)));
        if (!holds(c, kv)) {
          return new TxnResult.ConditionFailed(i);
        }
      }
      throw new IllegalStateException("etcd refused the txn but every condition holds at revision " + r.getHeader().getRevision());
    });
  }

  private static boolean holds(Condition c, Optional<KeyValue> kv) {
    return switch (c) {
      case Condition.Absent a -> kv.isEmpty();
      case Condition.RevisionIs r -> kv.isPresent() && kv.get().modRevision() == r.modRevision();
      case Condition.ValueIs v -> kv.isPresent() && kv.get().value().equals(v.value());
    };
  }

  private static <T> CompletableFuture<T> readFailures(String what, CompletableFuture<T> f) {
    return f.handle((v, failure) -> {
      if (failure == null) {
        return v;
      }
      Throwable cause = Hops.unwrap(failure);
      if (!fromEtcdOrTransport(cause)) {
        throw asRuntime(cause); // a bug (an invariant, say): not an etcd outcome
      }
      // A read changes nothing, so whatever went wrong it did not take effect.
      throw IoFailure.definite(IoFailure.Kind.UNAVAILABLE, "etcd " + what + ": " + describe(cause));
    });
  }

  /** What a failed txn means: see the class comment. */
  static RuntimeException txnFailure(Throwable cause) {
    if (!fromEtcdOrTransport(cause)) {
      return asRuntime(cause);
    }
    Status status = Status.fromThrowable(cause);
    String message = "etcd txn: " + describe(cause);
    return switch (status.getCode()) {
      // Refused before proposing: etcd validates and checks quotas first.
      case INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION, OUT_OF_RANGE ->
          IoFailure.definite(IoFailure.Kind.REJECTED, message);
      case RESOURCE_EXHAUSTED -> IoFailure.definite(IoFailure.Kind.THROTTLED, message);
      // A deadline, a lost connection, a leader change: it may have been proposed and may commit.
      case DEADLINE_EXCEEDED, UNAVAILABLE, CANCELLED, ABORTED -> IoFailure.timeout(message);
      default -> IoFailure.indefinite(IoFailure.Kind.SERVER_ERROR, message);
    };
  }

  /** True for what etcd, gRPC or the connection report; false for our own bugs. */
  private static boolean fromEtcdOrTransport(Throwable cause) {
    return Status.fromThrowable(cause).getCode() != Status.Code.UNKNOWN
        || cause instanceof EtcdException
        || cause instanceof java.io.IOException
        || cause instanceof java.util.concurrent.TimeoutException;
  }

  private static RuntimeException asRuntime(Throwable t) {
    return t instanceof RuntimeException re ? re : new IllegalStateException(t);
  }

  private static String describe(Throwable cause) {
    Status status = Status.fromThrowable(cause);
    return status.getCode() == Status.Code.UNKNOWN ? String.valueOf(cause) : status.getCode() + " " + status.getDescription();
  }

  @Override
  public void close() {
    client.close();
  }
}
