package io.s2j.runtime.real;

import io.s2j.runtime.contract.MetadataStoreContract;
import io.s2j.runtime.contract.SeamHarness;

/** The metadata store contract on {@link ObjectStoreMetadataStore} over {@link InMemoryObjectStore}. */
class InMemoryMetaLogContractTest extends MetadataStoreContract {
  @Override
  protected SeamHarness newHarness() throws Exception {
    return new MetaStoreHarness(new InMemoryObjectStore());
  }
}
