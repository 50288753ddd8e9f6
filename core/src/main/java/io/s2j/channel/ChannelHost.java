package io.s2j.channel;

import io.s2j.channel.proto.HostRequest;
import io.s2j.channel.proto.HostResponse;
import io.s2j.runtime.Env;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import java.util.function.Consumer;

/**
 * A spare channel host: idle until the cop asks it to run a channel (a replacement for one whose
 * hosts are dead); then it runs that one channel for the rest of its incarnation. Requests for any
 * other channel are refused by the channel itself ({@code StreamletRef.channel_id}).
 */
public final class ChannelHost {
  private final Env env;
  private final ChannelKnobs knobs;
  private final PlantedBug bug;
  private final Consumer<Channel> started;
  private String hosting = "";

  public ChannelHost(Env env, ChannelKnobs knobs, PlantedBug bug, Consumer<Channel> started) {
    this.env = env;
    this.knobs = knobs;
    this.bug = bug;
    this.started = started;
    env.network().serve(ChannelRpc.HOST, this::onHost);
  }

  private Promise<HostResponse> onHost(NodeId caller, HostRequest request) {
    if (hosting.isEmpty() && !request.getChannelId().isEmpty()) {
      hosting = request.getChannelId();
      started.accept(new Channel(env, hosting, knobs, bug));
    }
    return Promise.completed(env.scheduler(), HostResponse.newBuilder().setChannelId(hosting).build());
  }
}
