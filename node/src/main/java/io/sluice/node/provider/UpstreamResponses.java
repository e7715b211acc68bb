package io.sluice.node.provider;

import static io.sluice.node.provider.UpstreamExchange.EXCHANGE;
import static io.sluice.node.provider.UpstreamExchange.cancel;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The response side of {@link NettyUpstream}'s connections: the pipeline handlers that read an
 * upstream's answer into its exchange, and the conversion of Netty's response to Pekko's. It exists
 * apart so that how a response is read changes in one place, not with the pool or the exchange.
 */
final class UpstreamResponses {
  /** Hop-by-hop and entity headers: carried by the Pekko response's entity, or not at all. */
  private static final List<String> SKIPPED = List.of("content-type", "content-length", "transfer-encoding",
      "connection", "keep-alive");
  private static final int CONTENT_TYPE_CACHE = 64;

  private final UpstreamClientSettings settings;
  private final Map<String, ContentType> contentTypes = new ConcurrentHashMap<>();

  UpstreamResponses(UpstreamClientSettings settings) {
    this.settings = settings;
  }

  /** Adds the response handlers to a new connection's pipeline, after its HTTP codec. */
  void install(Channel ch) {
    ch.pipeline().addLast(new FirstByte(), new WholeOnly(ch, settings.maxResponseBytes()), new Answer());
  }

  private HttpResponse toPekko(FullHttpResponse r) {
    byte[] body = ByteBufUtil.getBytes(r.content());
    return HttpResponse.create().withStatus(r.status().code()).withHeaders(headers(r.headers()))
        .withEntity(contentType(r.headers().get(HttpHeaderNames.CONTENT_TYPE)), ByteString.fromArrayUnsafe(body));
  }

  /**
   * A streamed body as the Pekko entity the request path reads. Close-delimited, because its data
   * bytes are the body's source itself: a chunked entity's data bytes pass through a filter that
   * holds one element ahead and drops it when the body fails (Pekko 1.7's {@code Filter} does not
   * hand on its held element before a failure), so a stream cut by its upstream would lose the
   * bytes that came right before the cut.
   */
  static ResponseEntity streamedEntity(ContentType contentType, Source<ByteString, ?> body) {
    return HttpEntities.createCloseDelimited(contentType, body);
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
        UpstreamExchange ex = ctx.channel().attr(EXCHANGE).get();
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
      UpstreamExchange ex = channel.attr(EXCHANGE).get();
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
      UpstreamExchange streamed = ctx.channel().attr(EXCHANGE).get();
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
        UpstreamExchange ex = ctx.channel().attr(EXCHANGE).get();
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

    private void streamed(UpstreamExchange ex, Object msg) {
      if (msg instanceof io.netty.handler.codec.http.HttpResponse head) {
        cancel(ex.firstByte);
        ex.keepAlive = HttpUtil.isKeepAlive(head);
        HttpResponse response;
        try {
          response = HttpResponse.create().withStatus(head.status().code()).withHeaders(headers(head.headers()))
              .withEntity(streamedEntity(contentType(head.headers().get(HttpHeaderNames.CONTENT_TYPE)),
                  Source.fromGraph(new BodySource(ex.stream))));
        } catch (RuntimeException e) {
          ex.fail(UpstreamFailure.Kind.CONNECT, "unreadable response (" + e.getClass().getSimpleName() + ")");
          return;
        }
        UpstreamBodyFeed feed = ex.stream;
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
      UpstreamExchange ex = ctx.channel().attr(EXCHANGE).get();
      if (ex != null && ex.stream != null && ex.stream.wanted && !ex.stream.closed) {
        ctx.read(); // the last read brought no bytes of the body: the stage is still waiting
      }
      ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      UpstreamExchange ex = ctx.channel().attr(EXCHANGE).get();
      if (ex != null) {
        ex.fail(UpstreamFailure.Kind.CONNECT, ex.result.isDone() ? "connection closed before the end of the response"
            : "connection closed before the response");
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      UpstreamExchange ex = ctx.channel().attr(EXCHANGE).get();
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
}
