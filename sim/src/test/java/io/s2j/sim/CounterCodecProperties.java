package io.s2j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.s2j.runtime.Invariants;
import io.s2j.sim.counter.CounterServer;
import io.s2j.sim.counter.CounterState;
import io.s2j.sim.counter.IncrementRequest;
import io.s2j.sim.counter.IncrementResponse;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Positive;

/** The counter scenario's persisted state and messages survive encoding, and garbage is refused. */
class CounterCodecProperties {
  @Property
  void storedStateRoundTrips(@ForAll @Positive long value) {
    ByteString bytes = CounterState.newBuilder().setFormatVersion(1).setValue(value).build().toByteString();
    assertEquals(value, CounterServer.decode(bytes));
  }

  @Property
  void messagesRoundTrip(@ForAll String client, @ForAll long opId, @ForAll long value, @ForAll String why) throws Exception {
    IncrementRequest req = IncrementRequest.newBuilder().setClient(client).setOpId(opId).build();
    assertEquals(req, CounterServer.INCREMENT.requestParser().parseFrom(req.toByteArray()));
    IncrementResponse ok = IncrementResponse.newBuilder().setValue(value).build();
    assertEquals(ok, CounterServer.INCREMENT.responseParser().parseFrom(ok.toByteArray()));
    IncrementResponse bad = IncrementResponse.newBuilder().setIndefiniteFailure(why).build();
    assertEquals(bad, CounterServer.INCREMENT.responseParser().parseFrom(bad.toByteArray()));
  }

  @Property
  void aStateOfAnotherFormatVersionIsRefused(@ForAll long value) {
    ByteString bytes = CounterState.newBuilder().setFormatVersion(2).setValue(value).build().toByteString();
    try {
      CounterServer.decode(bytes);
      throw new AssertionError("decoded a state of an unknown format");
    } catch (Invariants.InvariantViolation expected) {
      // refused, as it must be
    }
  }
}
