package io.s2j.runtime.sim;

import io.s2j.runtime.contract.ObjectStoreContract;
import io.s2j.runtime.contract.SeamHarness;

/** The ObjectStoreContract suite against the simulated runtime, fault-free. */
class SimObjectStoreContractTest extends ObjectStoreContract {
  @Override
  protected SeamHarness newHarness() {
    return new SimHarness(42, FaultProfile.NONE);
  }
}
