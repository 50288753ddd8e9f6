package io.s2j.runtime.real;

import io.s2j.runtime.contract.NetworkContract;
import io.s2j.runtime.contract.SeamHarness;

class InProcessNetworkContractTest extends NetworkContract {
  @Override
  protected SeamHarness newHarness() {
    return new RealHarness(new InMemoryObjectStore());
  }
}
