package io.s2j.runtime.sim;

import io.s2j.runtime.contract.ObjectStoreContract;
import io.s2j.runtime.contract.SeamHarness;
import io.s2j.storage.QuorumObjectStore;
import java.util.List;

/** The ObjectStoreContract suite against the express quorum over three simulated zonal buckets, fault-free. */
class QuorumObjectStoreContractTest extends ObjectStoreContract {
  @Override
  protected SeamHarness newHarness() {
    SimHarness h = new SimHarness(42, FaultProfile.NONE);
    QuorumObjectStoreFaultsTest.addZones(h.world);
    h.world.setStoreComposer((node, scheduler, bucket) -> new QuorumObjectStore(scheduler,
        List.of(bucket.apply("zone-a"), bucket.apply("zone-b"), bucket.apply("zone-c"))));
    return h;
  }
}
