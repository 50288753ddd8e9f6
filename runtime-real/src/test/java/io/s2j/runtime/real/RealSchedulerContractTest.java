package io.s2j.runtime.real;

import io.s2j.runtime.contract.SchedulerContract;
import io.s2j.runtime.contract.SeamHarness;

class RealSchedulerContractTest extends SchedulerContract {
  @Override
  protected SeamHarness newHarness() {
    return new RealHarness(new InMemoryObjectStore());
  }
}
