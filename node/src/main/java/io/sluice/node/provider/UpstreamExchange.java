package io.sluice.node.provider;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * One request on one connection of {@link NettyUpstream}, ended exactly once (answer, failure,
 * timeout or cancel). It exists apart so that the exchange's timers and its ending change in one
 * place; its state is touched only on the connection's event loop.
 */
final class UpstreamExchange {
  /** The connection's current exchange; null while the connection is idle in its pool. */
  static final AttributeKey<UpstreamExchange> EXCHANGE = AttributeKey.valueOf("sluice.upstream.exchange");

  final CompletableFuture<HttpResponse> result;
  final UpstreamPool pool;
  final Channel channel;
  ScheduledFuture<?> firstByte;
  ScheduledFuture<?> total;
  /** The body of a streamed exchange; null when the response is read whole. */
  UpstreamBodyFeed stream;
  boolean keepAlive;

  UpstreamExchange(UpstreamPool pool, Channel channel, CompletableFuture<HttpResponse> result) {
    this.pool = pool;
    this.channel = channel;
    this.result = result;
  }

  /**
   * On the event loop, once the exchange owns the connection: the response head must arrive within
   * {@code firstByte}, a whole response within {@code total}; a null {@code total} makes the
   * exchange streamed, and from here on the connection reads when the body is pulled.
   */
  void arm(Duration firstByte, Duration total) {
    EventLoop loop = channel.eventLoop();
    this.firstByte = loop.schedule(() -> fail(UpstreamFailure.Kind.TIMEOUT,
        "no response within " + firstByte.toMillis() + " ms"), Math.max(1, firstByte.toNanos()), TimeUnit.NANOSECONDS);
    if (total != null) {
      this.total = loop.schedule(() -> fail(UpstreamFailure.Kind.TIMEOUT,
          "no complete response within " + total.toMillis() + " ms"), Math.max(1, total.toNanos()), TimeUnit.NANOSECONDS);
    } else {
      stream = new UpstreamBodyFeed(this);
      channel.config().setAutoRead(false); // from here on the connection reads when the body is pulled
    }
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

  static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
