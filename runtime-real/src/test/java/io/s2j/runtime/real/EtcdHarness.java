package io.s2j.runtime.real;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import io.s2j.runtime.contract.SeamHarness;
import java.security.SecureRandom;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * A {@link RealRuntime} whose nodes see an {@link EtcdMetadataStore} on {@code etcd}, under a fresh
 * namespace (so each harness starts from an empty store while tests share one etcd process).
 */
final class EtcdHarness implements SeamHarness {
  private final EtcdMetadataStore store;
  private final RealHarness real;

  EtcdHarness(EtcdProcess etcd) {
    this.store = EtcdMetadataStore.connect(EtcdMetadataStore.Options.of(
        List.of(etcd.clientUrl()), ByteString.copyFromUtf8("s2j-test/" + UUID.randomUUID() + "/")));
    this.real = new RealHarness(new RealRuntime(new InMemoryObjectStore(), new SecureRandom().nextLong(),
        store::view, store::close, null));
  }

  EtcdMetadataStore store() {
    return store;
  }

  @Override
  public Env env(String name) {
    return real.env(name);
  }

  @Override
  public <T> T await(Env env, Function<Env, Promise<T>> op) {
    return real.await(env, op);
  }

  @Override
  public void close() {
    real.close();
  }
}
