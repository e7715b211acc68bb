package io.sluice.node.provider;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.node.routing.Deployment;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.util.ByteString;

/**
 * The upstream transport: HTTP/1.1 keep-alive connections on Netty, pooled per deployment and run
 * by one event loop per deployment.
 *
 * <p>It exists because Pekko HTTP's pooled client costs a gateway more than the rest of a request:
 * every exchange crosses the pool's stream, a per-connection stream and a TCP actor, with a thread
 * hand-off at each. Here an exchange is one write and one read on the connection's event loop,
 * and the caller's continuation runs there too.
 *
 * <p>Two kinds of exchange share a deployment's pool: {@link #send} reads the response whole
 * (chat completions without {@code stream}, embeddings); {@link #stream} hands over the response
 * head as soon as it arrives, with a body ({@link BodySource}) that reads the connection only as
 * fast as it is consumed.
 *
 * <p>Timeouts: the pool wait plus connect is bounded by the first-byte timeout; the response head
 * must arrive within the first-byte timeout of the request going out, and a whole response within
 * the total one (a stream's total and idle times are the caller's, on its body). A streamed body
 * nobody starts reading within the subscription timeout is given up. A connection whose exchange
 * failed, timed out or was cancelled is closed, never reused.
 */
public final class NettyUpstream implements AutoCloseable {
  private static final AttributeKey<Exchange> EXCHANGE = AttributeKey.valueOf("sluice.upstream.exchange");
  /** Hop-by-hop and entity headers: carried by the Pekko response's entity, or not at all. */
  private static final List<String> SKIPPED = List.of("content-type", "content-length", "transfer-encoding",
      "connection", "keep-alive");
  private static final int CONTENT_TYPE_CACHE = 64;

  private final UpstreamClientSettings settings;
  private final NioEventLoopGroup group;
  private final SslContext ssl;
  private final Map<String, Pool> pools = new ConcurrentHashMap<>();
  private final Map<String, ContentType> contentTypes = new ConcurrentHashMap<>();

  /** Verifies upstream certificates against the JVM's trust store, and their host names. */
  public NettyUpstream(UpstreamClientSettings settings) {
    this(settings, defaultTls());
  }

  NettyUpstream(UpstreamClientSettings settings, SslContext ssl) {
    this.settings = settings;
    this.ssl = ssl;
    this.group = new NioEventLoopGroup(settings.eventLoopThreads(), new DefaultThreadFactory("sluice-upstream", true));
  }

  private static SslContext defaultTls() {
    try {
      return SslContextBuilder.forClient().build();
    } catch (SSLException e) {
      throw new IllegalStateException("no TLS client context: " + e.getMessage(), e);
    }
  }

  /** One deployment's connections: where they go, and the pool of them. */
  private record Pool(Deployment deployment, String hostHeader, FixedChannelPool channels) {}

  /** One request on one connection, ended exactly once (answer, failure, timeout or cancel). */
  private final class Exchange {
    final CompletableFuture<HttpResponse> result;
    final Pool pool;
    final Channel channel;
    ScheduledFuture<?> firstByte;
    ScheduledFuture<?> total;
    /** The body of a streamed exchange; null when the response is read whole. */
    BodyFeed stream;
    boolean keepAlive;

    Exchange(Pool pool, Channel channel, CompletableFuture<HttpResponse> result) {
      this.pool = pool;
      this.channel = channel;
      this.result = result;
    }

    /** On the event loop: ends this exchange unless it already ended, and gives the connection back. */
    void end(HttpResponse response, RuntimeException failure, boolean reusable) {
      if (!channel.attr(EXCHANGE).compareAndSet(this, null)) {
        return;
      }
      cancel(firstByte);
      cancel(total);
      if (stream != null) {
        cancel(stream.subscription);
      }
      if (!reusable) {
        channel.close();
      } else if (stream != null) {
        channel.config().setAutoRead(true); // back in the pool: notice the server closing it
      }
      pool.channels().release(channel);
      if (failure != null) {
        result.completeExceptionally(failure);
      } else if (response != null) {
        result.complete(response);
      }
      if (stream != null) {
        stream.offer(failure != null ? failure : BodySource.END);
      }
    }

    void fail(UpstreamFailure.Kind kind, String detail) {
      end(null, new UpstreamFailure(kind, pool.deployment().name(), detail), false);
    }
  }

  /**
   * The connection side of a streamed body. Its state is touched only on the connection's event
   * loop; the stage's calls ({@link BodySource.Feed}) are handed over to it.
   */
  private final class BodyFeed implements BodySource.Feed {
    final Exchange ex;
    final AtomicBoolean taken = new AtomicBoolean();
    final Queue<Object> events = new ConcurrentLinkedQueue<>();
    /** The stage's wake-up, once it took the body. */
    volatile AsyncCallback<Object> wake;
    /** The stage asked for more and has not had a chunk since. */
    boolean wanted;
    /** The end or a failure went in, or the stage gave up: nothing more is added. */
    boolean closed;
    ScheduledFuture<?> subscription;

    BodyFeed(Exchange ex) {
      this.ex = ex;
    }

    @Override
    public boolean attach(AsyncCallback<Object> callback) {
      if (!taken.compareAndSet(false, true)) {
        return false;
      }
      wake = callback; // published after the CAS; offer() reads it after adding (see offer)
      return true;
    }

    @Override
    public Queue<Object> events() {
      return events;
    }

    @Override
    public void demand() {
      ex.channel.eventLoop().execute(() -> {
        if (!closed && ex.channel.attr(EXCHANGE).get() == ex) {
          wanted = true;
          ex.channel.read();
        }
      });
    }

    @Override
    public void cancel() {
      ex.channel.eventLoop().execute(() -> {
        closed = true;
        ex.end(null, null, false);
      });
    }

    /**
     * On the event loop: a chunk ({@link ByteString}), {@link BodySource#END} or a failure. Added
     * first, then the wake-up read: a stage that attached too late to be woken finds the event
     * when it drains the queue right after attaching.
     */
    void offer(Object event) {
      if (closed) {
        return;
      }
      if (event instanceof ByteString) {
        wanted = false;
      } else {
        closed = true;
      }
      events.add(event);
      AsyncCallback<Object> w = wake;
      if (w != null) {
        w.invoke(Boolean.TRUE);
      }
    }
  }

  /**
   * Sends {@code request} (its entity must be strict) to {@code d} and completes with the whole
   * response, or fails with {@link UpstreamFailure}. The future completes on the connection's
   * event loop: continuations must not block.
   */
  public CompletableFuture<HttpResponse> send(Deployment d, HttpRequest request, Duration firstByte, Duration total) {
    return exchange(d, request, firstByte, total);
  }

  /**
   * Sends {@code request} (its entity must be strict) to {@code d} and completes with the response
   * head when it arrives within {@code firstByte}, or fails with {@link UpstreamFailure}. The
   * response's entity streams the body from the connection, once, with backpressure; cancelling
   * it closes the connection. The future completes on the connection's event loop.
   */
  public CompletableFuture<HttpResponse> stream(Deployment d, HttpRequest request, Duration firstByte) {
    return exchange(d, request, firstByte, null);
  }

  /** One exchange: whole when {@code total} is given, streamed when it is null. */
  private CompletableFuture<HttpResponse> exchange(Deployment d, HttpRequest request, Duration firstByte,
      Duration total) {
    Pool pool = pool(d);
    if (!(request.entity() instanceof HttpEntity.Strict strict)) {
      throw new IllegalArgumentException("NettyUpstream sends strict entities only");
    }
    CompletableFuture<HttpResponse> result = new CompletableFuture<>();
    pool.channels().acquire().addListener((Future<Channel> acquired) -> {
      if (!acquired.isSuccess()) {
        result.completeExceptionally(classify(d, acquired.cause()));
        return;
      }
      Channel ch = acquired.getNow();
      Exchange ex = new Exchange(pool, ch, result);
      if (!ch.attr(EXCHANGE).compareAndSet(null, ex)) {
        // Never expected: a pooled connection still busy. Do not reuse it.
        ch.close();
        pool.channels().release(ch);
        result.completeExceptionally(new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), "connection busy"));
        return;
      }
      EventLoop loop = ch.eventLoop();
      ex.firstByte = loop.schedule(() -> ex.fail(UpstreamFailure.Kind.TIMEOUT,
          "no response within " + firstByte.toMillis() + " ms"), Math.max(1, firstByte.toNanos()), TimeUnit.NANOSECONDS);
      if (total != null) {
        ex.total = loop.schedule(() -> ex.fail(UpstreamFailure.Kind.TIMEOUT,
            "no complete response within " + total.toMillis() + " ms"), Math.max(1, total.toNanos()), TimeUnit.NANOSECONDS);
      } else {
        ex.stream = new BodyFeed(ex);
        ch.config().setAutoRead(false); // from here on the connection reads when the body is pulled
      }
      ch.writeAndFlush(toNetty(pool, request, strict.getData())).addListener(written -> {
        if (!written.isSuccess()) {
          ex.fail(UpstreamFailure.Kind.CONNECT, "connection failed (" + written.cause().getClass().getSimpleName() + ")");
        }
      });
      if (ex.stream != null) {
        ch.read(); // the response head
      }
    });
    return result;
  }

  private Pool pool(Deployment d) {
    Pool p = pools.get(d.name());
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

  private Pool newPool(Deployment d) {
    URI base = URI.create(d.baseUrl());
    boolean tls = "https".equalsIgnoreCase(base.getScheme());
    String host = base.getHost();
    int port = base.getPort() > 0 ? base.getPort() : tls ? 443 : 80;
    String hostHeader = hostHeader(base);
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
        ch.pipeline().addLast(new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS), new HttpClientCodec(),
            new FirstByte(), new WholeOnly(ch, settings.maxResponseBytes()), new Answer());
      }
    };
    FixedChannelPool channels = new FixedChannelPool(bootstrap, handler, ChannelHealthChecker.ACTIVE,
        FixedChannelPool.AcquireTimeoutAction.FAIL, Math.max(1, d.firstByteTimeout().toMillis()),
        d.maxConnections(), d.maxOpenRequests(), true, true);
    return new Pool(d, hostHeader, channels);
  }

  /**
   * The request target sent, when it must keep a percent-encoding that Pekko's URI model would
   * render otherwise (Pekko decodes {@code %3A} in a path and renders it as {@code :}): a request
   * signed over its exact path (Bedrock's SigV4) carries that path here.
   */
  public static final org.apache.pekko.http.javadsl.model.AttributeKey<String> RAW_TARGET =
      org.apache.pekko.http.javadsl.model.AttributeKey.create("sluice-raw-target", String.class);

  /** The path and query that go on the request line: {@link #RAW_TARGET} when set, else the URI's. */
  public static String target(HttpRequest request) {
    return request.getAttribute(RAW_TARGET).orElseGet(() -> request.getUri().toRelative().toString());
  }

  /**
   * The Host header sent to a deployment at {@code base}: its host, with the port when the URL names
   * one. A request signer (Bedrock's SigV4) signs this same value.
   */
  public static String hostHeader(URI base) {
    return base.getPort() > 0 ? base.getHost() + ":" + base.getPort() : base.getHost();
  }

  private static DefaultFullHttpRequest toNetty(Pool pool, HttpRequest request, ByteString body) {
    ByteBuf content = Unpooled.wrappedBuffer(body.asByteBuffer());
    String target = target(request);
    DefaultFullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
        HttpMethod.valueOf(request.method().value()), target.isEmpty() ? "/" : target, content);
    HttpHeaders h = out.headers();
    h.set(HttpHeaderNames.HOST, pool.hostHeader());
    h.set(HttpHeaderNames.USER_AGENT, "sluice");
    h.set(HttpHeaderNames.CONTENT_TYPE, request.entity().getContentType().toString());
    h.set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    for (HttpHeader header : request.getHeaders()) {
      h.add(header.name(), header.value());
    }
    return out;
  }

  private HttpResponse toPekko(FullHttpResponse r) {
    byte[] body = ByteBufUtil.getBytes(r.content());
    return HttpResponse.create().withStatus(r.status().code()).withHeaders(headers(r.headers()))
        .withEntity(contentType(r.headers().get(HttpHeaderNames.CONTENT_TYPE)), ByteString.fromArrayUnsafe(body));
  }

  private static List<HttpHeader> headers(HttpHeaders from) {
    List<HttpHeader> headers = new ArrayList<>(from.size());
    for (Map.Entry<String, String> e : from) {
      if (!skipped(e.getKey())) {
        headers.add(RawHeader.create(e.getKey(), e.getValue()));
      }
    }
    return headers;
  }

  private static boolean skipped(String header) {
    for (String s : SKIPPED) {
      if (s.equalsIgnoreCase(header)) {
        return true;
      }
    }
    return false;
  }

  private ContentType contentType(String value) {
    if (value == null) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
    ContentType known = contentTypes.get(value);
    if (known != null) {
      return known;
    }
    ContentType parsed;
    try {
      parsed = ContentTypes.parse(value);
    } catch (RuntimeException invalid) {
      parsed = ContentTypes.APPLICATION_OCTET_STREAM;
    }
    if (contentTypes.size() < CONTENT_TYPE_CACHE) {
      contentTypes.put(value, parsed);
    }
    return parsed;
  }

  /** Stops the first-byte timer when the response head arrives, before the body is aggregated. */
  private static final class FirstByte extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof io.netty.handler.codec.http.HttpResponse) {
        Exchange ex = ctx.channel().attr(EXCHANGE).get();
        if (ex != null) {
          cancel(ex.firstByte);
        }
      }
      ctx.fireChannelRead(msg);
    }
  }

  /** Aggregates the response of a whole exchange; a streamed exchange's parts pass through. */
  private static final class WholeOnly extends HttpObjectAggregator {
    private final Channel channel;

    WholeOnly(Channel channel, int maxResponseBytes) {
      super(maxResponseBytes);
      this.channel = channel;
    }

    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
      Exchange ex = channel.attr(EXCHANGE).get();
      return (ex == null || ex.stream == null) && super.acceptInboundMessage(msg);
    }
  }

  /**
   * Ends the connection's exchange with the whole response or with the connection's failure; for
   * a streamed exchange, hands over the head, then each chunk, then the end.
   */
  private final class Answer extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Exchange streamed = ctx.channel().attr(EXCHANGE).get();
      if (streamed != null && streamed.stream != null) {
        try {
          streamed(streamed, msg);
        } finally {
          ReferenceCountUtil.release(msg);
        }
        return;
      }
      if (!(msg instanceof FullHttpResponse r)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        Exchange ex = ctx.channel().attr(EXCHANGE).get();
        if (ex == null) {
          ctx.close(); // an answer nobody asked for: the connection is out of step
          return;
        }
        HttpResponse response;
        try {
          response = toPekko(r);
        } catch (RuntimeException e) {
          ex.fail(UpstreamFailure.Kind.CONNECT, "unreadable response (" + e.getClass().getSimpleName() + ")");
          return;
        }
        ex.end(response, null, HttpUtil.isKeepAlive(r));
      } finally {
        r.release();
      }
    }

    private void streamed(Exchange ex, Object msg) {
      if (msg instanceof io.netty.handler.codec.http.HttpResponse head) {
        cancel(ex.firstByte);
        ex.keepAlive = HttpUtil.isKeepAlive(head);
        HttpResponse response;
        try {
          response = HttpResponse.create().withStatus(head.status().code()).withHeaders(headers(head.headers()))
              .withEntity(HttpEntities.createChunked(contentType(head.headers().get(HttpHeaderNames.CONTENT_TYPE)),
                  Source.fromGraph(new BodySource(ex.stream))));
        } catch (RuntimeException e) {
          ex.fail(UpstreamFailure.Kind.CONNECT, "unreadable response (" + e.getClass().getSimpleName() + ")");
          return;
        }
        BodyFeed feed = ex.stream;
        long wait = settings.bodySubscriptionTimeout().toNanos();
        feed.subscription = ex.channel.eventLoop().schedule(() -> {
          if (feed.wake == null) {
            ex.fail(UpstreamFailure.Kind.TIMEOUT, "nobody read the response body within "
                + settings.bodySubscriptionTimeout().toMillis() + " ms");
          }
        }, wait, TimeUnit.NANOSECONDS);
        // Read on until the first chunk is in: the first event is usually on its way, and a stream's
        // time to first byte should not wait for the stage's first pull to come round.
        feed.wanted = true;
        ex.result.complete(response);
      }
      if (msg instanceof HttpContent content) {
        if (content.content().isReadable()) {
          ex.stream.offer(ByteString.fromArrayUnsafe(ByteBufUtil.getBytes(content.content())));
        }
        if (msg instanceof LastHttpContent) {
          ex.end(null, null, ex.keepAlive);
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      Exchange ex = ctx.channel().attr(EXCHANGE).get();
      if (ex != null && ex.stream != null && ex.stream.wanted && !ex.stream.closed) {
        ctx.read(); // the last read brought no bytes of the body: the stage is still waiting
      }
      ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Exchange ex = ctx.channel().attr(EXCHANGE).get();
      if (ex != null) {
        ex.fail(UpstreamFailure.Kind.CONNECT, ex.result.isDone() ? "connection closed before the end of the response"
            : "connection closed before the response");
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Exchange ex = ctx.channel().attr(EXCHANGE).get();
      if (ex != null) {
        ex.fail(UpstreamFailure.Kind.CONNECT, "bad response (" + cause.getClass().getSimpleName() + ")");
      }
      ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent && ctx.channel().attr(EXCHANGE).get() == null) {
        ctx.close(); // idle in the pool; a busy connection is bounded by its exchange's timers
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }
  }

  private static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  static UpstreamFailure classify(Deployment d, Throwable cause) {
    if (cause instanceof UpstreamFailure f) {
      return f;
    }
    if (cause instanceof TimeoutException) {
      return new UpstreamFailure(UpstreamFailure.Kind.TIMEOUT, d.name(), "no connection within "
          + d.firstByteTimeout().toMillis() + " ms");
    }
    String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
    if (message.contains("timeout") || message.contains("timed out")) {
      return new UpstreamFailure(UpstreamFailure.Kind.TIMEOUT, d.name(), "connect timed out");
    }
    if (message.contains("refused")) {
      return new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), "connection refused");
    }
    return new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), "connection failed ("
        + cause.getClass().getSimpleName() + ")");
  }

  @Override
  public void close() {
    for (Pool p : pools.values()) {
      p.channels().close();
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
  }
}
