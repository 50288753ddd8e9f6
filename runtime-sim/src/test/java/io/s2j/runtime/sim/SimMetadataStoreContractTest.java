package io.s2j.runtime.sim;

import io.s2j.runtime.contract.MetadataStoreContract;
import io.s2j.runtime.contract.SeamHarness;

/** The MetadataStoreContract suite against the simulated runtime, fault-free. */
class SimMetadataStoreContractTest extends MetadataStoreContract {
  @Override
  protected SeamHarness newHarness() {
    return new SimHarness(42, FaultProfile.NONE);
  }
}
