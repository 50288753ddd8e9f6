package io.s2j.runtime.real;

import com.google.protobuf.StringValue;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.s2j.runtime.Network;
import io.s2j.runtime.NodeId;
import io.s2j.runtime.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A process hosting node {@code remote} that serves {@code test.Echo} over {@link NettyNetwork} on
 * loopback (port from the first argument, 0 for any); prints {@code READY <port>} and runs until
 * killed. Started by {@link NettyNetworkTest}.
 */
public final class RpcEchoProcess {
  private RpcEchoProcess() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    NettyNetwork net = NettyNetwork.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
        new PeerDirectory(), NettyNetwork.Options.defaults());
    EventLoopScheduler scheduler = new EventLoopScheduler(
        (EventLoop) new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory()).next(), Throwable::printStackTrace);
    Network network = net.attach(NodeId.of("remote"), scheduler);
    network.serve(NettyNetworkTest.ECHO, (caller, req) -> Promise.completed(scheduler, StringValue.of(caller + ":" + req.getValue())));
    System.out.println("READY " + net.localAddress().getPort());
    System.out.flush();
    Thread.currentThread().join();
  }
}
