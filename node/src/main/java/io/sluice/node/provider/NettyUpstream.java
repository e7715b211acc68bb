package io.sluice.node.provider;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.Future;
import io.sluice.node.routing.Deployment;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
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
  private final UpstreamPools pools;

  /** Verifies upstream certificates against the JVM's trust store, and their host names. */
  public NettyUpstream(UpstreamClientSettings settings) {
    this(settings, defaultTls());
  }

  NettyUpstream(UpstreamClientSettings settings, SslContext ssl) {
    this.pools = new UpstreamPools(settings, ssl);
  }

  private static SslContext defaultTls() {
    try {
      return SslContextBuilder.forClient().build();
    } catch (SSLException e) {
      throw new IllegalStateException("no TLS client context: " + e.getMessage(), e);
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
    UpstreamPool pool = pools.pool(d);
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
      UpstreamExchange ex = new UpstreamExchange(pool, ch, result);
      if (!ch.attr(UpstreamExchange.EXCHANGE).compareAndSet(null, ex)) {
        // Never expected: a pooled connection still busy. Do not reuse it.
        ch.close();
        pool.channels().release(ch);
        result.completeExceptionally(new UpstreamFailure(UpstreamFailure.Kind.CONNECT, d.name(), "connection busy"));
        return;
      }
      ex.arm(firstByte, total);
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

  private static DefaultFullHttpRequest toNetty(UpstreamPool pool, HttpRequest request, ByteString body) {
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
    pools.close();
  }
}
