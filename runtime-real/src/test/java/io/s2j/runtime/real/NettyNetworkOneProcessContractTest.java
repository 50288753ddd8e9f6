package io.s2j.runtime.real;

import io.s2j.runtime.Env;
import io.s2j.runtime.Promise;
import io.s2j.runtime.contract.NetworkContract;
import io.s2j.runtime.contract.SeamHarness;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.function.Function;

/**
 * The network contract with every node in one {@link NettyNetwork} ("process"): calls between nodes
 * of one process go through its own socket on loopback, like any other.
 */
class NettyNetworkOneProcessContractTest extends NetworkContract {
  @Override
  protected SeamHarness newHarness() throws Exception {
    PeerDirectory directory = new PeerDirectory();
    NettyNetwork net = NettyNetwork.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), directory,
        NettyNetwork.Options.defaults());
    RealHarness real = new RealHarness(new RealRuntime(new InMemoryObjectStore(), new SecureRandom().nextLong(),
        new InMemoryMetadataStore()::view, () -> {}, (node, scheduler) -> {
          directory.put(node, net.localAddress());
          return net.attach(node, scheduler);
        }));
    return new SeamHarness() {
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
        net.close();
      }
    };
  }
}
