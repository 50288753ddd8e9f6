package io.s2j.runtime.real;

import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import io.s2j.runtime.contract.SeamHarness;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@link RealRuntime} whose nodes see an {@link ObjectStoreMetadataStore} (on the runtime's own
 * object store) instead of the in-memory metadata store: the metadata contract suite's harness.
 */
final class MetaStoreHarness implements SeamHarness {
  private final RealHarness real;
  private final ObjectStoreMetadataStore meta;
  private final Map<String, Env> envs = new LinkedHashMap<>();

  MetaStoreHarness(SharedObjectStore objectStore) throws InterruptedException {
    this.real = new RealHarness(objectStore);
    ObjectStoreMetadataStore opened;
    try {
      opened = ObjectStoreMetadataStore.open(objectStore,
          ObjectStoreMetadataStore.Options.defaults().withFenceProbeInterval(Duration.ofMillis(200)));
    } catch (RuntimeException | InterruptedException e) {
      real.close();
      throw e;
    }
    this.meta = opened;
  }

  ObjectStoreMetadataStore meta() {
    return meta;
  }

  @Override
  public synchronized Env env(String name) {
    return envs.computeIfAbsent(name, n -> {
      Env e = real.runtime().env(NodeId.of(n));
      return new Env(e.node(), e.clock(), e.scheduler(), e.network(), e.objectStore(), meta.view(e.scheduler()), e.random());
    });
  }

  @Override
  public <T> T await(Env env, Function<Env, Promise<T>> op) {
    return real.await(env, op);
  }

  @Override
  public void close() {
    meta.close();
    real.close();
  }
}
