package io.sluice.mock;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A running mock upstream that speaks OpenAI's API and Anthropic's Messages API (under
 * {@code /v1/messages}). It exists so the gateway's tests, demos and benchmarks
 * have an upstream with controllable latency, streaming pace and failures that is never the
 * bottleneck: plain Netty on NIO, non-blocking, all delays on the event-loop timer.
 *
 * <p>Embed it with {@code try (MockLlmServer s = MockLlmServer.start(MockSettings.defaults().withPort(0))) {...}}
 * and point the client at {@link #baseUrl()}; or run it as a process with {@link Main}.
 */
public final class MockLlmServer implements AutoCloseable {
  private static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

  private final ServerState state;
  private final EventLoopGroup group;
  private final Channel channel;

  private MockLlmServer(ServerState state, EventLoopGroup group, Channel channel) {
    this.state = state;
    this.group = group;
    this.channel = channel;
  }

  /** Binds and starts serving; returns once the port is open. Event-loop threads are daemons. */
  public static MockLlmServer start(MockSettings settings) {
    ServerState state = new ServerState(settings);
    EventLoopGroup group = new NioEventLoopGroup(settings.threads(), new DefaultThreadFactory("mock-llm", true));
    try {
      Channel channel = new ServerBootstrap()
          .group(group)
          .channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 4096)
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(
                  new HttpServerCodec(),
                  new HttpObjectAggregator(MAX_BODY_BYTES),
                  new MockHandler(state));
            }
          })
          .bind(settings.host(), settings.port())
          .syncUninterruptibly()
          .channel();
      return new MockLlmServer(state, group, channel);
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    }
  }

  /** The bound port (the real one when started with port 0). */
  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** {@code http://host:port}, to which {@code /v1/chat/completions} etc. are appended. */
  public String baseUrl() {
    String host = state.settings.host();
    return "http://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port();
  }

  public MockSettings settings() {
    return state.settings;
  }

  /** Live counters, the same as served at {@code GET /mock/stats}. */
  public MockStats stats() {
    return state.stats;
  }

  /** Stops listening, drops open connections and stops the event loops; idempotent. */
  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Blocks until {@link #close()} has completed (e.g. from a shutdown hook). */
  public void awaitTermination() {
    group.terminationFuture().syncUninterruptibly();
  }
}
