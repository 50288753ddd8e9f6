package io.s2j.runtime.sim;

import io.s2j.runtime.contract.NetworkContract;
import io.s2j.runtime.contract.SeamHarness;

/** The NetworkContract suite against the simulated runtime, fault-free. */
class SimNetworkContractTest extends NetworkContract {
  @Override
  protected SeamHarness newHarness() {
    return new SimHarness(42, FaultProfile.NONE);
  }
}
