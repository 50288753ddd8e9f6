package io.s2j.runtime.real;

import io.s2j.runtime.contract.MetadataStoreContract;
import io.s2j.runtime.contract.SeamHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The metadata store contract on a real etcd, started by the test on loopback (skipped, saying
 * why, when no etcd binary is installed).
 */
class EtcdMetadataStoreContractTest extends MetadataStoreContract {
  private static EtcdProcess etcd;

  @BeforeAll
  static void startEtcd() throws Exception {
    etcd = EtcdProcess.startOrSkip();
  }

  @Override
  protected SeamHarness newHarness() {
    return new EtcdHarness(etcd);
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
      etcd = null;
    }
  }
}
