package io.s2j.runtime.real;

import io.s2j.runtime.contract.MetadataStoreContract;
import io.s2j.runtime.contract.SeamHarness;

class InMemoryMetadataStoreContractTest extends MetadataStoreContract {
  @Override
  protected SeamHarness newHarness() {
    return new RealHarness(new InMemoryObjectStore());
  }
}
