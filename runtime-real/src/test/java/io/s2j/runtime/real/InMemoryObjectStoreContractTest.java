package io.s2j.runtime.real;

import io.s2j.runtime.contract.ObjectStoreContract;
import io.s2j.runtime.contract.SeamHarness;

class InMemoryObjectStoreContractTest extends ObjectStoreContract {
  @Override
  protected SeamHarness newHarness() {
    return new RealHarness(new InMemoryObjectStore());
  }
}
