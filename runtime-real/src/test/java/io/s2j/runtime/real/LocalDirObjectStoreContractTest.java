package io.s2j.runtime.real;

import io.s2j.runtime.contract.ObjectStoreContract;
import io.s2j.runtime.contract.SeamHarness;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class LocalDirObjectStoreContractTest extends ObjectStoreContract {
  @TempDir Path dir;

  @Override
  protected SeamHarness newHarness() throws Exception {
    return new RealHarness(new LocalDirObjectStore(dir));
  }
}
