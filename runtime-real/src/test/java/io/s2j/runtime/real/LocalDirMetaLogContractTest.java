package io.s2j.runtime.real;

import io.s2j.runtime.contract.MetadataStoreContract;
import io.s2j.runtime.contract.SeamHarness;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The metadata store contract on {@link ObjectStoreMetadataStore} over {@link LocalDirObjectStore}. */
class LocalDirMetaLogContractTest extends MetadataStoreContract {
  @TempDir Path dir;

  @Override
  protected SeamHarness newHarness() throws Exception {
    return new MetaStoreHarness(new LocalDirObjectStore(dir));
  }
}
