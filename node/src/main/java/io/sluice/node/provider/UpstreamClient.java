package io.sluice.node.provider;

import io.sluice.node.routing.Deployment;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The pooled HTTP client to upstream deployments. Each deployment gets its own pool (connections,
 * open requests, connect timeout), so one slow deployment cannot starve another. Both kinds of
 * exchange go over {@link NettyUpstream}: whole responses, and streamed ones whose body is a
 * backpressured {@code Source}. It enforces the time to first byte; for a stream the caller
 * enforces the total and idle times on the body.
 */
public final class UpstreamClient implements io.sluice.node.inference.Upstream {
  private final NettyUpstream netty;

  public UpstreamClient(ActorSystem<?> system) {
    this.netty = new NettyUpstream(UpstreamClientSettings.from(system.settings().config()));
    system.getWhenTerminated().thenRun(netty::close);
  }

  /**
   * Sends {@code request} to {@code d} and completes with the whole response (its entity strict),
   * or fails with {@link UpstreamFailure}: the head must arrive within {@code firstByte} and the
   * whole response within {@code total}. Completes on an upstream event loop; do not block there.
   */
  @Override
  public CompletionStage<HttpResponse> sendWhole(Deployment d, HttpRequest request, Duration firstByte,
      Duration total) {
    return netty.send(d, request, firstByte, total);
  }

  /**
   * Sends {@code request} to {@code d} for a streamed response. Completes with the response head
   * when it arrives within {@code firstByte}; fails with {@link UpstreamFailure} otherwise. The
   * body streams from the connection once; cancelling it closes the connection.
   */
  @Override
  public CompletionStage<HttpResponse> sendStreamed(Deployment d, HttpRequest request, Duration firstByte) {
    return netty.stream(d, request, firstByte);
  }
}
