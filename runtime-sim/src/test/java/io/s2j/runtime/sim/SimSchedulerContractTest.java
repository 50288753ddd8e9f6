package io.s2j.runtime.sim;

import io.s2j.runtime.contract.SchedulerContract;
import io.s2j.runtime.contract.SeamHarness;

/** The SchedulerContract suite against the simulated runtime, fault-free. */
class SimSchedulerContractTest extends SchedulerContract {
  @Override
  protected SeamHarness newHarness() {
    return new SimHarness(42, FaultProfile.NONE);
  }
}
