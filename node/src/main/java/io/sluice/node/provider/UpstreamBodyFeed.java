package io.sluice.node.provider;

import io.netty.util.concurrent.ScheduledFuture;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.util.ByteString;

/**
 * The connection side of a streamed body of {@link NettyUpstream}. Its state is touched only on the
 * connection's event loop; the stage's calls ({@link BodySource.Feed}) are handed over to it.
 */
final class UpstreamBodyFeed implements BodySource.Feed {
  final UpstreamExchange ex;
  final AtomicBoolean taken = new AtomicBoolean();
  final Queue<Object> events = new ConcurrentLinkedQueue<>();
  /** The stage's wake-up, once it took the body. */
  volatile AsyncCallback<Object> wake;
  /** The stage asked for more and has not had a chunk since. */
  boolean wanted;
  /** The end or a failure went in, or the stage gave up: nothing more is added. */
  boolean closed;
  ScheduledFuture<?> subscription;

  UpstreamBodyFeed(UpstreamExchange ex) {
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
      if (!closed && ex.channel.attr(UpstreamExchange.EXCHANGE).get() == ex) {
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
