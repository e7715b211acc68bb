package io.sluice.node.provider;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sluice.node.routing.Deployment;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The connections of {@link NettyUpstream}: one pool per deployment, each run by one event loop,
 * replaced when the deployment's configuration changes. It exists apart so that how connections
 * are opened, secured and pooled changes in one place, not with the exchanges that use them.
 */
final class UpstreamPools implements AutoCloseable {
  private final UpstreamClientSettings settings;
  private final NioEventLoopGroup group;
  private final SslContext ssl;
  private final UpstreamResponses responses;
  private final Map<String, UpstreamPool> pools = new ConcurrentHashMap<>();

  UpstreamPools(UpstreamClientSettings settings, SslContext ssl) {
    this.settings = settings;
    this.ssl = ssl;
    this.responses = new UpstreamResponses(settings);
    this.group = new NioEventLoopGroup(settings.eventLoopThreads(), new DefaultThreadFactory("sluice-upstream", true));
  }

  /** The pool of {@code d}'s connections: the same one while {@code d} is the same deployment. */
  UpstreamPool pool(Deployment d) {
    UpstreamPool p = pools.get(d.name());
    if (p != null && p.deployment() == d) {
      return p;
    }
    return pools.compute(d.name(), (name, old) -> {
      if (old != null && old.deployment() == d) {
        return old;
      }
      if (old != null) {
        old.channels().close();
      }
      return newPool(d);
    });
  }

  private UpstreamPool newPool(Deployment d) {
    URI base = URI.create(d.baseUrl());
    boolean tls = "https".equalsIgnoreCase(base.getScheme());
    String host = base.getHost();
    int port = base.getPort() > 0 ? base.getPort() : tls ? 443 : 80;
    String hostHeader = NettyUpstream.hostHeader(base);
    // One event loop per deployment: the pool's bookkeeping and all its connections on one thread.
    Bootstrap bootstrap = new Bootstrap().group(group.next()).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, d.connectTimeout().toMillis()))
        .remoteAddress(host, port);
    AbstractChannelPoolHandler handler = new AbstractChannelPoolHandler() {
      @Override
      public void channelCreated(Channel ch) {
        if (tls) {
          SslHandler sslHandler = ssl.newHandler(ch.alloc(), host, port);
          SSLEngine engine = sslHandler.engine();
          SSLParameters params = engine.getSSLParameters();
          params.setEndpointIdentificationAlgorithm("HTTPS");
          engine.setSSLParameters(params);
          ch.pipeline().addLast(sslHandler);
        }
        long idle = settings.idleTimeout().toMillis();
        ch.pipeline().addLast(new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS), new HttpClientCodec());
        responses.install(ch);
      }
    };
    FixedChannelPool channels = new FixedChannelPool(bootstrap, handler, ChannelHealthChecker.ACTIVE,
        FixedChannelPool.AcquireTimeoutAction.FAIL, Math.max(1, d.firstByteTimeout().toMillis()),
        d.maxConnections(), d.maxOpenRequests(), true, true);
    return new UpstreamPool(d, hostHeader, channels);
  }

  @Override
  public void close() {
    for (UpstreamPool p : pools.values()) {
      p.channels().close();
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
  }
}
