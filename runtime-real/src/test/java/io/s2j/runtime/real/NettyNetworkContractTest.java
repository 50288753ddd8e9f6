package io.s2j.runtime.real;

import io.s2j.runtime.contract.NetworkContract;
import io.s2j.runtime.contract.SeamHarness;

/** The network contract over TCP on loopback, each node with its own Netty network ("process"). */
class NettyNetworkContractTest extends NetworkContract {
  @Override
  protected SeamHarness newHarness() {
    return new NettyHarness(NettyNetwork.Options.defaults());
  }
}
